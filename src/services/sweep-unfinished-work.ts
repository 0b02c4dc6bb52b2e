import { randomUUID } from 'node:crypto';
import { findOverdueBillPayments, postponeBillPayments } from '../db/repositories/bill-payments.ts';
import { findOverdueCallbacks, postponeCallbacks } from '../db/repositories/callback-deliveries.ts';
import { findOverdueOrders, scheduleChecks } from '../db/repositories/orders.ts';
import { findOverdueDeliveries, postponeDeliveries } from '../db/repositories/webhooks.ts';
import type { ServiceContext } from './context.ts';
import { scheduleInquiries } from './follow-up.ts';

const SWEEP_LIMIT = 5000;

export interface SweepResult {
  readonly dispatched: number;
  readonly inquired: number;
  readonly webhooks: number;
  readonly callbacks: number;
  readonly billPayments: number;
}

/**
 * Re-creates the queue work for anything unfinished that is overdue, so that losing the queues (a wiped
 * Redis, truncated queue tables, a worker killed mid-job) never loses an order. The work it adds is harmless
 * twice: claims are guarded and rail keys never change.
 */
export async function sweepUnfinishedWork(context: ServiceContext): Promise<SweepResult> {
  const graceMs = context.config.SWEEPER_STALE_AFTER_MS;
  const cutoff = new Date(Date.now() - graceMs);
  const overdue = await findOverdueOrders(context.db, cutoff, SWEEP_LIMIT);
  const toDispatch = new Map<string, string[]>();
  const toInquire: string[] = [];
  for (const order of overdue) {
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
  await scheduleInquiries(context, toInquire.map((orderId) => ({ orderId, attempt: 0, delayMs: 0 })), { recovery: true });
  const dueAgain = new Date(Date.now() + graceMs);
  await scheduleChecks(context.db, [...toDispatch.values()].flat().map((id) => ({ id, at: dueAgain })));

  const deliveries = await findOverdueDeliveries(context.db, cutoff, SWEEP_LIMIT);
  await context.queues.deliverWebhooks(deliveries.map((deliveryId) => ({ deliveryId })), { recovery: true });
  await postponeDeliveries(context.db, deliveries, dueAgain);

  const callbacks = await findOverdueCallbacks(context.db, cutoff, SWEEP_LIMIT);
  await context.queues.deliverCallbacks(callbacks.map((deliveryId) => ({ deliveryId })), { recovery: true });
  await postponeCallbacks(context.db, callbacks, dueAgain);

  const billPayments = await findOverdueBillPayments(context.db, cutoff, SWEEP_LIMIT);
  await context.queues.followBillPayments(billPayments.map((paymentId) => ({ paymentId, attempt: 0 })), { recovery: true });
  await postponeBillPayments(context.db, billPayments, dueAgain);
  // The batch monitor runs on a job scheduler that lives in the queues: a wiped datastore takes it along, and
  // it is the monitor that revives batches whose jobs were lost.
  await context.queues.scheduleBatchMonitor(context.config.BATCH_MONITOR_MS);
  // Voucher expiry's job scheduler lives in the queues as well.
  await context.queues.scheduleVoucherExpiry(context.config.VOUCHER_EXPIRY_SWEEP_MS);
  const result = { dispatched: overdue.length - toInquire.length, inquired: toInquire.length, webhooks: deliveries.length, callbacks: callbacks.length, billPayments: billPayments.length };
  if (overdue.length + deliveries.length + callbacks.length + billPayments.length > 0) context.logger.info(result, 'sweeper re-created lost work');
  return result;
}
