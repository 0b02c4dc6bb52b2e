import { isRailError, type RailError, type RailOutcome, type RailPayment } from '../../adapters/contract.ts';
import { AWAITING_RAIL_STATUSES } from '../domain/order-status.ts';
import { loadOrders, transitionOrders } from '../db/repositories/orders.ts';
import { publicBaseUrl } from '../config/index.ts';
import type { ServiceContext } from './context.ts';
import { railPaymentFor } from './rail-payment.ts';
import { scheduleInquiries } from './follow-up.ts';
import { railGate } from './rail-circuit.ts';
import { countTransitions, recordRailOutcomes } from './record-rail-outcomes.ts';

/**
 * Sends a chunk of orders to their rail, unless the rail's circuit is open: then nothing is claimed and the
 * caller holds the rail's queue until the circuit's retry time, so waiting burns no retries. Only orders this call moves to `submitted` are sent; an order that
 * is already `submitted` was sent by an earlier, interrupted run, so it is inquired about instead of resent.
 */
export async function dispatchOrders(context: ServiceContext, rail: string, orderIds: readonly string[]): Promise<{ holdUntilMs?: number }> {
  const gate = railGate(context);
  const admission = await gate.admit(rail);
  if (admission.kind === 'wait') return { holdUntilMs: admission.untilMs };
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
