import { isRailError, type RailError, type RailStatus } from '../../adapters/contract.ts';
import { AWAITING_RAIL_STATUSES } from '../domain/order-status.ts';
import { loadOrders, scheduleChecks } from '../db/repositories/orders.ts';
import { publicBaseUrl } from '../config/index.ts';
import type { ServiceContext } from './context.ts';
import { railGate } from './rail-circuit.ts';
import { railPaymentFor } from './rail-payment.ts';
import { recordRailOutcomes, type FollowUp } from './record-rail-outcomes.ts';

/**
 * Asks the rail what became of an order it may or may not have executed. Only when the rail has no record
 * of the key is the payment sent again — under the same key, so the rail can never execute it twice.
 * Returns when to ask again, or nothing when the order is settled.
 */
export async function inquireOrder(context: ServiceContext, orderId: string, attempt: number): Promise<FollowUp | undefined> {
  const [order] = await loadOrders(context.db, [orderId]);
  if (!order || !AWAITING_RAIL_STATUSES.includes(order.status)) return undefined;
  const gate = railGate(context);
  const admission = await gate.admit(order.rail);
  if (admission.kind === 'wait') {
    await scheduleChecks(context.db, [{ id: order.id, at: new Date(admission.untilMs) }]);
    return { orderId, attempt, delayMs: Math.max(admission.untilMs - Date.now(), 0) };
  }
  const adapter = context.rails.get(order.rail);
  let answer: RailStatus | RailError;
  const started = performance.now();
  try {
    answer = await adapter.getStatus(order.railKey);
    if (answer.status === 'not_found') {
      const resent = await adapter.initiateChunk([railPaymentFor(order, publicBaseUrl(context.config))]);
      answer = resent.get(order.railKey) ?? { status: 'not_found' };
    }
  } catch (error) {
    if (!isRailError(error)) throw error;
    answer = error;
  }
  await gate.report(order.rail, [answer]);
  context.metrics.railLatency.observe(
    { rail: order.rail, operation: 'inquire', outcome: isRailError(answer) ? answer.decision : answer.status },
    (performance.now() - started) / 1000,
  );
  const [followUp] = await recordRailOutcomes(context, [order], new Map([[order.railKey, answer]]), attempt);
  if (followUp) await scheduleChecks(context.db, [{ id: order.id, at: new Date(Date.now() + followUp.delayMs) }]);
  return followUp;
}
