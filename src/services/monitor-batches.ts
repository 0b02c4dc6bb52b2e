import { isDeepStrictEqual } from 'node:util';
import { milestoneReached } from '../domain/batch.ts';
import { findUnfinishedBatches, loadBatch, updateBatch, type Batch } from '../db/repositories/batches.ts';
import { measureProgress, progressSnapshot, type BatchProgress } from './batch-progress.ts';
import type { ServiceContext } from './context.ts';
import { executeBatch } from './execute-batch.ts';
import { notifyBatch } from './notify-batch.ts';
import { settleBatchFunds } from './program-funds.ts';

const BATCHES_PER_TICK = 200;

/**
 * One tick of the batch monitor. For each batch still moving: aggregates where its payments stand, settles the
 * program budget to match (completed amounts become disbursed, failed and cancelled ones are released), pushes
 * progress milestones and closes the batch once every payment is final. It also restarts work whose jobs were
 * lost, since the tables, not the queues, say what is left to do.
 */
export async function monitorBatches(context: ServiceContext): Promise<void> {
  const staleBefore = Date.now() - context.config.SWEEPER_STALE_AFTER_MS;
  for (const batch of await findUnfinishedBatches(context.db, BATCHES_PER_TICK)) {
    if (batch.status === 'processing') {
      await advance(context, batch.id, staleBefore);
    } else if (batch.updatedAt.getTime() < staleBefore && (batch.status === 'validating' || (batch.executeAt?.getTime() ?? 0) <= Date.now())) {
      await updateBatch(context.db, batch.id, [batch.status], {});
      if (batch.status === 'validating') await context.queues.validateBatch(batch.id, { recovery: true });
      else await context.queues.executeBatch(batch.id, { recovery: true });
      context.logger.warn({ batchId: batch.id, status: batch.status }, 'batch monitor re-queued a batch that had not moved');
    }
  }
}

async function advance(context: ServiceContext, batchId: string, staleBefore: number): Promise<void> {
  const stalled = await context.db.transaction(async (trx) => {
    const batch = await loadBatch(trx, batchId, { forUpdate: true });
    if (!batch || batch.status !== 'processing') return false;
    const measuredAt = Date.now();
    if (measuredAt < nextMeasurementAt(batch, context.config.BATCH_MONITOR_MS)) return false;
    const progress = await measureProgress(trx, batch);
    const settled = batch.fullyOrdered ? await settle(trx, batch, progress) : {};
    const done = batch.fullyOrdered && progress.inProgress.count === 0 && progress.notSent.count === 0;
    const milestone = done ? 100 : Math.max(batch.milestone, Math.min(milestoneReached(progress.finalCount, batch.validCount), 75));
    const snapshot = progressSnapshot(progress);
    // Compared as values: jsonb keeps its keys in an order of its own.
    const changed = !isDeepStrictEqual(snapshot, withoutPacing(batch.progress));
    if (!changed && !done && milestone === batch.milestone) return !batch.fullyOrdered && batch.updatedAt.getTime() < staleBefore;
    const final = done ? { status: batch.cancelRequestedAt ? 'cancelled' as const : 'completed' as const, completedAt: new Date() } : {};
    await updateBatch(trx, batchId, ['processing'], { ...settled, ...final, milestone, progress: { ...snapshot, measured_at: measuredAt, measure_ms: Date.now() - measuredAt } });
    if (milestone > batch.milestone || done) await notifyBatch(context, (await loadBatch(trx, batchId))!, done ? 'completed' : 'progress', trx);
    return false;
  });
  if (stalled) {
    await updateBatch(context.db, batchId, ['processing'], {});
    await executeBatch(context, batchId, { recovery: true });
    context.logger.warn({ batchId }, 'batch monitor re-queued the chunks of a batch whose rows stopped turning into payments');
  }
}

/**
 * The batch's block on the budget shrinks to what is still in flight: completed amounts move to disbursed and
 * the rest returns to the program. Computed from totals, not from events, so a missed tick loses nothing.
 */
async function settle(trx: ServiceContext['db'], batch: Batch, progress: BatchProgress): Promise<{ reservedMinor: bigint; disbursedMinor: bigint }> {
  const stillBlocked = progress.inProgress.amountMinor + progress.notSent.amountMinor;
  const disbursed = progress.completed.amountMinor;
  const newlyDisbursed = disbursed - batch.disbursedMinor;
  const released = batch.reservedMinor - stillBlocked - newlyDisbursed;
  await settleBatchFunds(trx, batch, newlyDisbursed, released);
  return { reservedMinor: stillBlocked, disbursedMinor: disbursed };
}

/**
 * A large batch is measured less often: the pause after a measurement is four times what it cost, so the
 * monitor never takes more than a fifth of the database however many payments the batch holds.
 */
function nextMeasurementAt(batch: Batch, intervalMs: number): number {
  const { measured_at: at, measure_ms: cost } = batch.progress as { measured_at?: number; measure_ms?: number };
  return typeof at === 'number' && typeof cost === 'number' ? at + Math.max(intervalMs, 4 * cost) : 0;
}

function withoutPacing(progress: Record<string, unknown>): Record<string, unknown> {
  const { measured_at: _at, measure_ms: _cost, ...rest } = progress;
  return rest;
}
