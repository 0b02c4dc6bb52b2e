import { isRailError, type RailError, type RailOutcome, type RailStatus } from '../../adapters/contract.ts';
import { backoffDelay } from '../domain/backoff.ts';
import type { Order } from '../domain/order.ts';
import { moveOrders, type StatusChange, type StatusMove } from '../db/repositories/orders.ts';
import type { ServiceContext } from './context.ts';

export interface FollowUp {
  readonly orderId: string;
  readonly attempt: number;
  readonly delayMs: number;
}

/**
 * Turns what a rail said about each order into status changes: completions and declines are final,
 * a timeout makes the outcome unknown, and anything not final is followed up by a status inquiry
 * (under the same rail key: the order is never sent under a new one).
 */
export async function recordRailOutcomes(
  context: Pick<ServiceContext, 'db' | 'queues' | 'config' | 'metrics'>,
  orders: readonly Order[],
  outcomes: ReadonlyMap<string, RailOutcome | RailStatus | RailError>,
  attempt: number,
): Promise<FollowUp[]> {
  const completed: StatusChange[] = [];
  const failed: StatusChange[] = [];
  const becameUnknown: StatusChange[] = [];
  const awaitingPayer: StatusChange[] = [];
  const followUps: FollowUp[] = [];
  const later = () => backoffDelay(attempt, context.config.INQUIRY_BASE_DELAY_MS, context.config.INQUIRY_MAX_DELAY_MS);

  for (const order of orders) {
    const outcome = outcomes.get(order.railKey);
    if (outcome === undefined || isRailError(outcome)) {
      const decision = outcome?.decision ?? 'unknown';
      if (decision === 'unknown' && order.status === 'submitted') {
        becameUnknown.push({ id: order.id, detail: { reason: outcome?.message ?? 'the rail gave no answer for this payment' } });
      }
      followUps.push({ orderId: order.id, attempt: attempt + 1, delayMs: later() });
    } else if (outcome.status === 'completed') {
      completed.push({ id: order.id, railReference: outcome.railReference, railFee: outcome.fee ?? null, detail: { rail_reference: outcome.railReference } });
    } else if (outcome.status === 'failed') {
      failed.push({ id: order.id, railReference: outcome.railReference ?? null, failureCode: outcome.reasonCode, failureReason: outcome.reason, detail: { reason_code: outcome.reasonCode } });
    } else {
      if ('nextAction' in outcome && outcome.nextAction && order.status !== 'requires_action') {
        awaitingPayer.push({ id: order.id, railReference: outcome.railReference ?? null, nextAction: outcome.nextAction, detail: { next_action: outcome.nextAction.type } });
      }
      followUps.push({ orderId: order.id, attempt: attempt + 1, delayMs: later() });
    }
  }

  const changed = [
    ...(await moveOrders(context.db, 'completed', completed)),
    ...(await moveOrders(context.db, 'failed', failed)),
    ...(await moveOrders(context.db, 'unknown', becameUnknown)),
    ...(await moveOrders(context.db, 'requires_action', awaitingPayer)),
  ];
  countTransitions(context, changed);
  await context.queues.deliverWebhooks(webhooksOf(changed));
  return followUps;
}

export function webhooksOf(changed: readonly StatusMove[]): { deliveryId: string }[] {
  return changed.flatMap((change) => (change.webhookDeliveryId ? [{ deliveryId: change.webhookDeliveryId }] : []));
}

export function countTransitions(context: Pick<ServiceContext, 'metrics'>, changed: readonly StatusMove[]): void {
  for (const change of changed) context.metrics.transitions.inc({ to: change.toStatus });
}
