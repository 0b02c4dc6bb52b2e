import type { Job } from 'bullmq';
import { BATCH_CHUNK_QUEUE, BATCH_MONITOR_QUEUE, BATCH_QUEUE, BILL_PAYMENT_QUEUE, CALLBACK_QUEUE, INQUIRY_QUEUE, RECONCILIATION_QUEUE, VOUCHER_EXPIRY_QUEUE, WEBHOOK_QUEUE, dispatchQueueName } from '../src/queue/names.ts';
import type { BoundWorker, QueueBackend } from '../src/queue/backend.ts';
import { OutboxRelay } from '../src/queue/outbox-relay.ts';
import { scheduleReconciliations } from '../src/queue/reconciliation-schedules.ts';
import type { ServiceContext } from '../src/services/context.ts';
import { batchChunkProcessor, batchMonitorProcessor, batchProcessor } from './batches.ts';
import { billPaymentProcessor } from './bill-payments.ts';
import { callbackProcessor } from './callbacks.ts';
import { dispatchProcessor } from './dispatch.ts';
import { inquiryProcessor } from './inquiry.ts';
import { reconciliationProcessor } from './reconciliation.ts';
import { Sweeper } from './sweeper.ts';
import { voucherExpiryProcessor } from './vouchers.ts';
import { webhookProcessor } from './webhooks.ts';

export interface RunningWorkers {
  close(): Promise<void>;
}

/** Starts the outbox relay, one worker per queue and the sweeper; `close` lets active jobs finish. */
export async function startWorkers(context: ServiceContext, backend: QueueBackend): Promise<RunningWorkers> {
  const { Worker } = backend.classes;
  const concurrency = context.config.WORKER_CONCURRENCY;
  const workers: BoundWorker[] = [];
  const run = (queue: string, processor: (job: Job, token?: string) => Promise<unknown>, options: { concurrency?: number; ratePerSecond?: number } = {}) => {
    const logged = async (job: Job, token?: string) => {
      context.logger.debug({ queue, jobId: job.id, attempt: job.attemptsMade }, 'job started');
      return processor(job, token);
    };
    const worker = new Worker(queue, logged, {
      connection: backend.connection,
      concurrency: options.concurrency ?? concurrency,
      // A job whose worker died is handed to another once its lock lapses.
      lockDuration: context.config.WORKER_LOCK_MS,
      stalledInterval: context.config.WORKER_LOCK_MS,
      ...(options.ratePerSecond ? { limiter: { max: options.ratePerSecond, duration: 1000 } } : {}),
    });
    worker.on('failed', (job, error) => context.logger.error({ queue, jobId: job?.id, err: error }, 'job failed'));
    worker.on('error', (error) => context.logger.error({ queue, err: error }, 'worker error'));
    workers.push(worker);
  };
  for (const rail of context.rails.ids()) {
    const settings = context.rails.queueSettings(rail);
    run(dispatchQueueName(rail), dispatchProcessor(context, rail), { concurrency: settings.concurrency, ratePerSecond: settings.ratePerSecond });
  }
  run(INQUIRY_QUEUE, inquiryProcessor(context));
  run(WEBHOOK_QUEUE, webhookProcessor(context));
  run(CALLBACK_QUEUE, callbackProcessor(context));
  run(BILL_PAYMENT_QUEUE, billPaymentProcessor(context));
  run(BATCH_QUEUE, batchProcessor(context));
  run(BATCH_CHUNK_QUEUE, batchChunkProcessor(context), { concurrency: context.config.BATCH_CHUNK_CONCURRENCY });
  run(BATCH_MONITOR_QUEUE, batchMonitorProcessor(context), { concurrency: 1 });
  await context.queues.scheduleBatchMonitor(context.config.BATCH_MONITOR_MS);
  // One reconciliation at a time per worker process: a run holds a transaction over a whole statement.
  run(RECONCILIATION_QUEUE, reconciliationProcessor(context), { concurrency: 1 });
  await scheduleReconciliations(context.queues, context.config.RECON_SCHEDULES, { ids: () => context.rails.ids(), statements: (id) => context.rails.get(id).capabilities.statements }, context.logger);
  run(VOUCHER_EXPIRY_QUEUE, voucherExpiryProcessor(context), { concurrency: 1 });
  await context.queues.scheduleVoucherExpiry(context.config.VOUCHER_EXPIRY_SWEEP_MS);
  const sweeper = new Sweeper(context);
  sweeper.start();

  const relay = new OutboxRelay(context.db, context.queues, { chunkSize: context.config.DISPATCH_CHUNK_SIZE, pollMs: context.config.OUTBOX_POLL_MS, logger: context.logger });
  relay.start();
  return {
    async close() {
      await Promise.all([relay.stop(), sweeper.stop()]);
      await Promise.all(workers.map((worker) => worker.close()));
    },
  };
}
