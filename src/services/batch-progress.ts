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
 * Where every row of the batch stands, counts and amounts, read from the orders themselves: what the agency
 * sees while the batch runs and what the callbacks and the budget settle on.
 */
export async function batchProgress(db: Database, batch: Batch): Promise<BatchProgress> {
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
