import type { Batch } from '../db/repositories/batches.ts';
import type { Database } from '../db/knex.ts';
import { batchProgress } from './batch-progress.ts';
import type { ServiceContext } from './context.ts';
import { presentBatch, presentGovStackBatchStatus } from './present-batch.ts';
import { presentPrepaymentValidation } from './present-prepayment-validation.ts';
import { queueCallback } from './queue-callback.ts';

export type BatchEvent = 'validated' | 'progress' | 'completed';

/**
 * Tells the batch's callback URL where the batch stands, in the shape of the API it came through. Each
 * (event, milestone) is sent once, however often the caller asks; in a transaction, it is sent if that commits.
 */
export async function notifyBatch(context: Pick<ServiceContext, 'db' | 'queues' | 'logger'>, batch: Batch, event: BatchEvent, db: Database = context.db): Promise<void> {
  if (!batch.callbackUrl) return;
  const progress = await batchProgress(db, batch);
  const body = batch.api === 'kassa'
    ? { type: `batch.${event}`, data: presentBatch(batch, progress) }
    : batch.api === 'govstack_legacy' && batch.validateOnly
      ? await presentPrepaymentValidation(db, batch)
      : presentGovStackBatchStatus(batch, progress);
  await queueCallback(context, {
    organisationId: batch.organisationId,
    url: batch.api === 'govstack' ? statusUpdateUrl(batch.callbackUrl, batch) : batch.callbackUrl,
    eventType: `batch.${event}`,
    body,
    dedupeKey: `batch-${batch.id}-${event}-${batch.milestone}`,
  }, db);
}

/** GovStack's BulkPaymentStatusUpdate call names the batch and its X-CorrelationID in the query, beside the body. */
function statusUpdateUrl(callbackUrl: string, batch: Batch): string {
  const url = new URL(callbackUrl);
  url.searchParams.set('batchId', batch.id);
  url.searchParams.set('X-CorrelationID', batch.correlationId);
  return url.toString();
}
