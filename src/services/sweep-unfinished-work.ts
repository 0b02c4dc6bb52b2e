import { randomUUID } from 'node:crypto';
import { findStaleOrders, touchOrders } from '../db/repositories/orders.ts';
import { findOverdueDeliveries } from '../db/repositories/webhooks.ts';
import type { ServiceContext } from './context.ts';

const SWEEP_LIMIT = 5000;

export interface SweepResult {
  readonly dispatched: number;
  readonly inquired: number;
  readonly webhooks: number;
}

/**
 * Re-creates the queue work for anything not final that has gone quiet, so that losing the queues
 * (a wiped Redis, a truncated queue table, a worker killed mid-job) never loses an order.
 * Every job it adds has the id the original would have had or is harmless twice: claims are guarded
 * and rail keys never change.
 */
export async function sweepUnfinishedWork(context: ServiceContext): Promise<SweepResult> {
  const cutoff = new Date(Date.now() - context.config.SWEEPER_STALE_AFTER_MS);
  const stale = await findStaleOrders(context.db, cutoff, SWEEP_LIMIT);
  const toDispatch = new Map<string, string[]>();
  const toInquire: string[] = [];
  for (const order of stale) {
    if (order.status === 'received' || order.status === 'queued') {
      toDispatch.set(order.rail, [...(toDispatch.get(order.rail) ?? []), order.id]);
    } else {
      toInquire.push(order.id);
    }
  }
  for (const [rail, ids] of toDispatch) {
    const chunks = [];
    for (let start = 0; start < ids.length; start += context.config.DISPATCH_CHUNK_SIZE) {
      chunks.push({ jobId: `sweep-${randomUUID()}`, data: { orderIds: ids.slice(start, start + context.config.DISPATCH_CHUNK_SIZE) } });
    }
    await context.queues.dispatch(rail, chunks);
  }
  await context.queues.inquire(toInquire.map((orderId) => ({ data: { orderId, attempt: 0 }, delayMs: 0 })));
  await touchOrders(context.db, stale.map((order) => order.id));

  const overdue = await findOverdueDeliveries(context.db, cutoff, SWEEP_LIMIT);
  await context.queues.deliverWebhooks(overdue.map((deliveryId) => ({ deliveryId })));
  const result = { dispatched: stale.length - toInquire.length, inquired: toInquire.length, webhooks: overdue.length };
  if (stale.length + overdue.length > 0) context.logger.info(result, 'sweeper re-created lost work');
  return result;
}
