import { isRailError, type RailError, type RailOutcome, type RailPayment } from '../../adapters/contract.ts';
import { AWAITING_RAIL_STATUSES } from '../domain/order-status.ts';
import { loadOrders, rerouteOrders, transitionOrders } from '../db/repositories/orders.ts';
import { publicBaseUrl } from '../config/index.ts';
import type { ServiceContext } from './context.ts';
import { railPaymentFor } from './rail-payment.ts';
import { scheduleInquiries } from './follow-up.ts';
import { railGate } from './rail-circuit.ts';
import { countTransitions, recordRailOutcomes } from './record-rail-outcomes.ts';

/**
 * Sends a chunk of orders to their rail, unless the rail's circuit is open: then nothing is claimed (orders with
 * a second rail fail over to it) and the caller puts the job to sleep until the circuit's retry time. Only orders this call moves to `submitted` are sent; an order that
 * is already `submitted` was sent by an earlier, interrupted run, so it is inquired about instead of resent.
 */
export async function dispatchOrders(context: ServiceContext, rail: string, orderIds: readonly string[]): Promise<{ holdUntilMs?: number }> {
  const gate = railGate(context);
  const admission = await gate.admit(rail);
  if (admission.kind === 'wait') {
    const remaining = await failOver(context, rail, orderIds);
    return remaining.length > 0 ? { holdUntilMs: admission.untilMs } : {};
  }
  const claimed = await transitionOrders(context.db, 'submitted', orderIds.map((id) => ({ id, detail: { rail } })), { countDispatch: true });
  countTransitions(context, claimed);
  const claimedIds = new Set(claimed.map((change) => change.order.id));
  const interrupted = (await loadOrders(context.db, orderIds.filter((id) => !claimedIds.has(id))))
    .filter((order) => AWAITING_RAIL_STATUSES.includes(order.status));
  await scheduleInquiries(context, interrupted.map((order) => ({ orderId: order.id, attempt: 0, delayMs: context.config.INQUIRY_BASE_DELAY_MS })));
  if (claimed.length === 0) return {};

  const orders = claimed.map((change) => change.order);
  const outcomes = await sendChunk(context, rail, orders.map((order) => railPaymentFor(order, publicBaseUrl(context.config))));
  await gate.report(rail, outcomes.values());
  const followUps = await recordRailOutcomes(context, orders, outcomes, 0);
  await scheduleInquiries(context, followUps);
  return {};
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

/**
 * While a rail's circuit is open, sends the orders it has not seen yet to their routes' second rail, where
 * one is configured and allowed. Answers the orders that stay, waiting for this rail.
 */
async function failOver(context: ServiceContext, rail: string, orderIds: readonly string[]): Promise<string[]> {
  const waiting = (await loadOrders(context.db, orderIds)).filter((order) => order.rail === rail && (order.status === 'received' || order.status === 'queued'));
  const byFallback = new Map<string, string[]>();
  for (const order of waiting) {
    const fallback = context.rails.failover(rail, { kind: order.kind, payer: order.payer, payee: order.payee, currency: order.amount.currency });
    if (fallback) byFallback.set(fallback.id, [...(byFallback.get(fallback.id) ?? []), order.id]);
  }
  const moved = new Set<string>();
  for (const [fallback, ids] of byFallback) {
    const rerouted = await rerouteOrders(context.db, ids, rail, fallback);
    await context.queues.dispatch(fallback, rerouted.length > 0 ? [{ jobId: `failover-${rerouted[0]}-${rerouted.length}-${Date.now()}`, data: { orderIds: rerouted } }] : []);
    for (const id of rerouted) moved.add(id);
    if (rerouted.length > 0) context.logger.warn({ from: rail, to: fallback, orders: rerouted.length }, 'rail circuit open: orders failed over to the second rail');
  }
  return orderIds.filter((id) => !moved.has(id));
}
