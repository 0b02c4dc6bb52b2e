import { updateBatch, type Batch } from '../db/repositories/batches.ts';
import type { Database } from '../db/knex.ts';
import type { BatchStatus } from '../domain/batch.ts';
import type { ServiceContext } from './context.ts';
import { blockBatchFunds } from './program-funds.ts';

export type Release = { readonly released: true } | { readonly released: false; readonly reason: 'insufficient_funds' };

/**
 * Blocks the batch's valid total on its program's budget and marks it `scheduled`, in the caller's transaction.
 * Nothing is blocked when the budget does not cover it. Callers hold the batch's row lock, so a batch that
 * moved meanwhile is a fault, and it rolls the reservation back.
 */
export async function releaseBatch(trx: Database, batch: Batch, from: BatchStatus, approval?: { by: string }): Promise<Release> {
  if (!(await blockBatchFunds(trx, batch, batch.validTotalMinor))) return { released: false, reason: 'insufficient_funds' };
  const moved = await updateBatch(trx, batch.id, [from], {
    status: 'scheduled',
    reservedMinor: batch.validTotalMinor,
    ...(approval ? { approvedBy: approval.by, approvedAt: new Date() } : {}),
  });
  if (!moved) throw new BatchMovedOn();
  return { released: true };
}

/** Thrown inside the transaction so the reservation made there rolls back with it. */
export class BatchMovedOn extends Error {
  override name = 'BatchMovedOn';
}

/** Once released and committed: execution is queued for the batch's time, or now. */
export async function queueExecution(context: Pick<ServiceContext, 'queues'>, batch: Pick<Batch, 'id' | 'executeAt'>): Promise<void> {
  const delayMs = batch.executeAt ? Math.max(batch.executeAt.getTime() - Date.now(), 0) : 0;
  await context.queues.executeBatch(batch.id, { delayMs });
}
