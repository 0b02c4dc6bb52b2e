import type { Batch } from '../db/repositories/batches.ts';
import { tallyBatchOrders, tallyCancelledRows, type OutcomeTotals } from '../db/repositories/batch-rows.ts';
import type { Database } from '../db/knex.ts';
import { FINAL_STATUSES } from '../domain/order-status.ts';

export interface BatchProgress {
  readonly completed: OutcomeTotals;
  readonly failed: OutcomeTotals;
  readonly cancelled: OutcomeTotals;
  /** Sent, or being sent, and not yet final. */
  readonly inProgress: OutcomeTotals;
  /** Valid, not yet turned into a payment. */
  readonly notSent: OutcomeTotals;
  readonly invalid: OutcomeTotals;
  /** Payments (valid rows) that reached a final outcome. */
  readonly finalCount: number;
}

const add = (a: OutcomeTotals, b: OutcomeTotals): OutcomeTotals => ({ count: a.count + b.count, amountMinor: a.amountMinor + b.amountMinor });
const ZERO: OutcomeTotals = { count: 0, amountMinor: 0n };

/**
 * Where every row of the batch stands, counts and amounts. Once payments exist, this is the monitor's last
 * measurement (at most a few seconds old while the batch runs, exact once it is final), so that what a status
 * request shows agrees with the budget the monitor settled on the same figures.
 */
export async function batchProgress(db: Database, batch: Batch): Promise<BatchProgress> {
  const stored = storedProgress(batch);
  return stored ?? measureProgress(db, batch);
}

function storedProgress(batch: Batch): BatchProgress | undefined {
  if (!['processing', 'completed', 'cancelled'].includes(batch.status)) return undefined;
  const snapshot = batch.progress as Partial<Record<keyof BatchProgress, { count: number; amount_minor: string } | number>>;
  const totals = (key: Exclude<keyof BatchProgress, 'finalCount'>): OutcomeTotals | undefined => {
    const value = snapshot[key];
    return typeof value === 'object' ? { count: value.count, amountMinor: BigInt(value.amount_minor) } : undefined;
  };
  const [completed, failed, cancelled, inProgress, notSent, invalid] = (['completed', 'failed', 'cancelled', 'inProgress', 'notSent', 'invalid'] as const).map(totals);
  if (!completed || !failed || !cancelled || !inProgress || !notSent || !invalid || typeof snapshot.finalCount !== 'number') return undefined;
  return { completed, failed, cancelled, inProgress, notSent, invalid, finalCount: snapshot.finalCount };
}

/** The progress as stored with the batch: amounts as decimal text, so the JSON holds them exactly. */
export function progressSnapshot(progress: BatchProgress): Record<string, unknown> {
  const entries = Object.entries(progress).map(([key, value]) => [key, typeof value === 'number' ? value : { count: value.count, amount_minor: value.amountMinor.toString() }]);
  return Object.fromEntries(entries) as Record<string, unknown>;
}

/** Counted from the batch's tallies, which move in the same statement as its orders: what the monitor settles the budget on. */
export async function measureProgress(db: Database, batch: Batch): Promise<BatchProgress> {
  const orders = await tallyBatchOrders(db, batch.id);
  const cancelledRows = batch.cancelRequestedAt ? await tallyCancelledRows(db, batch.id) : ZERO;
  let inProgress = ZERO;
  let ordered = ZERO;
  for (const [status, totals] of orders) {
    ordered = add(ordered, totals);
    if (!FINAL_STATUSES.includes(status)) inProgress = add(inProgress, totals);
  }
  const completed = orders.get('completed') ?? ZERO;
  const failed = orders.get('failed') ?? ZERO;
  const cancelled = add(orders.get('cancelled') ?? ZERO, cancelledRows);
  const validTotals: OutcomeTotals = { count: batch.validCount, amountMinor: batch.validTotalMinor };
  const accounted = add(ordered, cancelledRows);
  const notSent = batch.status === 'validating'
    ? ZERO
    : { count: Math.max(validTotals.count - accounted.count, 0), amountMinor: validTotals.amountMinor > accounted.amountMinor ? validTotals.amountMinor - accounted.amountMinor : 0n };
  return {
    completed, failed, cancelled, inProgress, notSent,
    invalid: { count: batch.invalidCount, amountMinor: 0n },
    finalCount: completed.count + failed.count + cancelled.count,
  };
}
