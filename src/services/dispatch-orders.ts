import { isRailError, type RailError, type RailOutcome, type RailPayment } from '../../adapters/contract.ts';
import { loadOrders, transitionOrders } from '../db/repositories/orders.ts';
import type { ServiceContext } from './context.ts';
import { railPaymentFor } from './rail-payment.ts';
import { countTransitions, recordRailOutcomes } from './record-rail-outcomes.ts';

/**
 * Sends a chunk of orders to their rail. Only orders this call moves to `submitted` are sent; an order that
 * is already `submitted` was sent by an earlier, interrupted run, so it is inquired about instead of resent.
 */
export async function dispatchOrders(context: ServiceContext, rail: string, orderIds: readonly string[]): Promise<void> {
  const claimed = await transitionOrders(context.db, 'submitted', orderIds.map((id) => ({ id, detail: { rail } })), { countDispatch: true });
  countTransitions(context, claimed);
  const claimedIds = new Set(claimed.map((change) => change.order.id));
  const interrupted = (await loadOrders(context.db, orderIds.filter((id) => !claimedIds.has(id))))
    .filter((order) => order.status === 'submitted' || order.status === 'unknown');
  await context.queues.inquire(interrupted.map((order) => ({ data: { orderId: order.id, attempt: 0 }, delayMs: context.config.INQUIRY_BASE_DELAY_MS })));
  if (claimed.length === 0) return;

  const orders = claimed.map((change) => change.order);
  const outcomes = await sendChunk(context, rail, orders.map(railPaymentFor));
  const followUps = await recordRailOutcomes(context, orders, outcomes, 0);
  await context.queues.inquire(followUps.map((followUp) => ({ data: { orderId: followUp.orderId, attempt: followUp.attempt }, delayMs: followUp.delayMs })));
}

async function sendChunk(context: ServiceContext, rail: string, payments: RailPayment[]): Promise<ReadonlyMap<string, RailOutcome | RailError>> {
  const adapter = context.rails.get(rail);
  const started = performance.now();
  try {
    const outcomes = await adapter.initiateChunk(payments);
    context.metrics.railLatency.observe({ rail, operation: 'initiate', outcome: 'answered' }, (performance.now() - started) / 1000);
    return outcomes;
  } catch (error) {
    context.metrics.railLatency.observe({ rail, operation: 'initiate', outcome: isRailError(error) ? error.decision : 'error' }, (performance.now() - started) / 1000);
    if (!isRailError(error)) throw error;
    context.logger.warn({ rail, decision: error.decision, err: error.message, payments: payments.length }, 'rail call failed; orders will be inquired about');
    return new Map(payments.map((payment) => [payment.railKey, error]));
  }
}
