import type { Job } from 'bullmq';
import { batchChunkJobSchema, batchJobSchema } from '../src/queue/payloads.ts';
import type { ServiceContext } from '../src/services/context.ts';
import { executeBatch, finishOrdering, orderBatchChunk } from '../src/services/execute-batch.ts';
import { monitorBatches } from '../src/services/monitor-batches.ts';
import { validateBatch } from '../src/services/validate-batch.ts';

/** A batch's lifecycle steps: validate, execute (which queues the flow), and the flow's parent. */
export function batchProcessor(context: ServiceContext) {
  return async (job: Job): Promise<void> => {
    switch (job.name) {
      case 'validate':
        return validateBatch(context, batchJobSchema.parse(job.data).batchId);
      case 'execute':
        return executeBatch(context, batchJobSchema.parse(job.data).batchId);
      case 'ordered':
        return finishOrdering(context, batchJobSchema.parse(job.data).batchId);
      default:
        throw new Error(`the batch queue has no job called ${job.name}`);
    }
  };
}

/** One range of a batch's rows: turned into payments and sent. */
export function batchChunkProcessor(context: ServiceContext) {
  return async (job: Job): Promise<void> => orderBatchChunk(context, batchChunkJobSchema.parse(job.data));
}

export function batchMonitorProcessor(context: ServiceContext) {
  return async (): Promise<void> => monitorBatches(context);
}
