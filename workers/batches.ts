import type { Job } from 'bullmq';
import { batchChunkJobSchema, batchJobSchema } from '../src/queue/payloads.ts';
import type { ServiceContext } from '../src/services/context.ts';
import { executeBatch, finishOrdering, orderBatchChunk } from '../src/services/execute-batch.ts';
import { monitorBatches } from '../src/services/monitor-batches.ts';
import { validateBatch } from '../src/services/validate-batch.ts';

/** One queue for a batch's life: validate, execute (a flow of chunks and their parent), and the monitor's ticks. */
export function batchProcessor(context: ServiceContext) {
  return async (job: Job): Promise<void> => {
    switch (job.name) {
      case 'validate':
        return validateBatch(context, batchJobSchema.parse(job.data).batchId);
      case 'execute':
        return executeBatch(context, batchJobSchema.parse(job.data).batchId);
      case 'order-chunk':
        return orderBatchChunk(context, batchChunkJobSchema.parse(job.data));
      case 'ordered':
        return finishOrdering(context, batchJobSchema.parse(job.data).batchId);
      case 'monitor':
        return monitorBatches(context);
      default:
        throw new Error(`the batch queue has no job called ${job.name}`);
    }
  };
}
