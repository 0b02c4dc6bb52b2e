import type { BoundQueue, QueueBackend } from './backend.ts';
import { BATCH_CHUNK_QUEUE, BATCH_MONITOR_QUEUE, BATCH_QUEUE, BILL_PAYMENT_QUEUE, CALLBACK_QUEUE, INQUIRY_QUEUE, VOUCHER_EXPIRY_QUEUE, WEBHOOK_QUEUE, dispatchQueueName } from './names.ts';
import type { BatchChunkJob, BillPaymentJob, CallbackJob, DispatchJob, InquiryJob, WebhookJob } from './payloads.ts';

type JobToAdd = Parameters<BoundQueue['addBulk']>[0][number];

/**
 * One job goes in with `add`, several with `addBulk`: on the PostgreSQL backend the bulk path stages its
 * rows in temporary tables, which costs far more than a single insert when there is only one job.
 */
async function addJobs(queue: BoundQueue, jobs: readonly JobToAdd[]): Promise<void> {
  if (jobs.length === 0) return;
  if (jobs.length === 1) {
    const [job] = jobs;
    await queue.add(job!.name, job!.data, job!.opts);
    return;
  }
  await queue.addBulk([...jobs]);
}

const FINISHED_JOBS_KEPT = { removeOnComplete: { count: 1000 }, removeOnFail: { count: 5000 } } as const;

/** Puts work on the queues; every job id is derived from what it is about, so adding it twice adds it once. */
export class QueueProducers {
  private readonly queues = new Map<string, BoundQueue>();
  private flows: InstanceType<QueueBackend['classes']['FlowProducer']> | undefined;

  constructor(private readonly backend: QueueBackend) {}

  queue(name: string): BoundQueue {
    let queue = this.queues.get(name);
    if (!queue) {
      queue = new this.backend.classes.Queue(name, { connection: this.backend.connection });
      this.queues.set(name, queue);
    }
    return queue;
  }

  async dispatch(rail: string, chunks: readonly { jobId: string; data: DispatchJob }[]): Promise<void> {
    await addJobs(this.queue(dispatchQueueName(rail)),
      chunks.map((chunk) => ({
        name: 'dispatch',
        data: chunk.data,
        opts: { jobId: chunk.jobId, attempts: 5, backoff: { type: 'exponential', delay: 1000, jitter: 0.5 }, ...FINISHED_JOBS_KEPT },
      })),
    );
  }

  async inquire(jobs: readonly { data: InquiryJob; delayMs: number; recovery?: boolean }[]): Promise<void> {
    await addJobs(this.queue(INQUIRY_QUEUE),
      jobs.map((job) => ({
        name: 'inquire',
        data: job.data,
        opts: { jobId: job.recovery ? `inquire-${job.data.orderId}-recovery-${Date.now()}` : `inquire-${job.data.orderId}`, delay: job.delayMs, attempts: 10, backoff: { type: 'exponential', delay: 1000, jitter: 0.5 }, removeOnComplete: true, removeOnFail: { count: 5000 } },
      })),
    );
  }

  async deliverWebhooks(deliveries: readonly WebhookJob[], options: { recovery?: boolean } = {}): Promise<void> {
    await addJobs(this.queue(WEBHOOK_QUEUE),
      deliveries.map((data) => ({
        name: 'deliver',
        data,
        opts: { jobId: options.recovery ? `webhook-${data.deliveryId}-recovery-${Date.now()}` : `webhook-${data.deliveryId}`, attempts: 3, backoff: { type: 'exponential', delay: 1000, jitter: 0.5 }, removeOnComplete: true, removeOnFail: { count: 5000 } },
      })),
    );
  }

  async deliverCallbacks(deliveries: readonly CallbackJob[], options: { recovery?: boolean } = {}): Promise<void> {
    await addJobs(this.queue(CALLBACK_QUEUE),
      deliveries.map((data) => ({
        name: 'deliver',
        data,
        opts: { jobId: options.recovery ? `callback-${data.deliveryId}-recovery-${Date.now()}` : `callback-${data.deliveryId}`, attempts: 3, backoff: { type: 'exponential', delay: 1000, jitter: 0.5 }, removeOnComplete: true, removeOnFail: { count: 5000 } },
      })),
    );
  }

  async followBillPayments(payments: readonly BillPaymentJob[], options: { recovery?: boolean } = {}): Promise<void> {
    await addJobs(this.queue(BILL_PAYMENT_QUEUE),
      payments.map((data) => ({
        name: 'follow',
        data,
        opts: { jobId: options.recovery ? `bill-payment-${data.paymentId}-recovery-${Date.now()}` : `bill-payment-${data.paymentId}`, attempts: 10, backoff: { type: 'exponential', delay: 1000, jitter: 0.5 }, removeOnComplete: true, removeOnFail: { count: 5000 } },
      })),
    );
  }

  /** Jobs waiting, delayed or active per queue, read from the datastore, so any process can report every queue. */
  async depth(names: readonly string[]): Promise<Map<string, number>> {
    const depths = new Map<string, number>();
    for (const name of names) {
      const counts = await this.queue(name).getJobCounts('waiting', 'delayed', 'active', 'prioritized');
      depths.set(name, Object.values(counts).reduce((sum, count) => sum + count, 0));
    }
    return depths;
  }

  async validateBatch(batchId: string, options: { recovery?: boolean } = {}): Promise<void> {
    await this.queue(BATCH_QUEUE).add('validate', { batchId }, {
      jobId: options.recovery ? `batch-validate-${batchId}-recovery-${Date.now()}` : `batch-validate-${batchId}`,
      attempts: 10, backoff: { type: 'exponential', delay: 1000, jitter: 0.5 }, ...FINISHED_JOBS_KEPT,
    });
  }

  /** Execution waits until the batch's scheduled time, if it has one. */
  async executeBatch(batchId: string, options: { delayMs?: number; recovery?: boolean } = {}): Promise<void> {
    await this.queue(BATCH_QUEUE).add('execute', { batchId }, {
      jobId: options.recovery ? `batch-execute-${batchId}-recovery-${Date.now()}` : `batch-execute-${batchId}`,
      delay: options.delayMs ?? 0, attempts: 10, backoff: { type: 'exponential', delay: 1000, jitter: 0.5 }, ...FINISHED_JOBS_KEPT,
    });
  }

  /**
   * A flow: one child job per range of rows (turn them into payments, send them), and a parent that runs once
   * every child is done and records that the whole batch has been handed to the rails.
   */
  async batchFlow(batchId: string, chunks: readonly BatchChunkJob[], attempt: string): Promise<void> {
    this.flows ??= new this.backend.classes.FlowProducer({ connection: this.backend.connection });
    const retried = { attempts: 10, backoff: { type: 'exponential', delay: 1000, jitter: 0.5 }, ...FINISHED_JOBS_KEPT } as const;
    await this.flows.add({
      name: 'ordered',
      queueName: BATCH_QUEUE,
      data: { batchId },
      opts: { jobId: `batch-ordered-${batchId}-${attempt}`, ...retried },
      children: chunks.map((chunk) => ({
        name: 'order-chunk',
        queueName: BATCH_CHUNK_QUEUE,
        data: chunk,
        opts: { jobId: `batch-rows-${batchId}-${chunk.fromRow}-${attempt}`, ...retried },
      })),
    });
  }

  /** The monitor runs on a job scheduler, so exactly one tick is due at a time whichever worker takes it. */
  async scheduleBatchMonitor(everyMs: number): Promise<void> {
    await this.queue(BATCH_MONITOR_QUEUE).upsertJobScheduler('batch-monitor', { every: everyMs }, { name: 'monitor', data: {}, opts: { removeOnComplete: true, removeOnFail: { count: 100 } } });
  }

  /** Voucher expiry runs on a job scheduler too: one run due at a time, whichever worker takes it. */
  async scheduleVoucherExpiry(everyMs: number): Promise<void> {
    await this.queue(VOUCHER_EXPIRY_QUEUE).upsertJobScheduler('voucher-expiry', { every: everyMs }, { name: 'expire', data: {}, opts: { removeOnComplete: true, removeOnFail: { count: 100 } } });
  }

  async close(): Promise<void> {
    await this.flows?.close();
    this.flows = undefined;
    await Promise.all([...this.queues.values()].map((queue) => queue.close()));
    this.queues.clear();
  }
}
