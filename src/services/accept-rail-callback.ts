import type { RailCallbackRequest } from '../../adapters/contract.ts';
import { notFound } from '../domain/errors.ts';
import { AWAITING_RAIL_STATUSES } from '../domain/order-status.ts';
import { findOrdersByRailKeys } from '../db/repositories/orders.ts';
import type { ServiceContext } from './context.ts';
import { scheduleInquiries } from './follow-up.ts';
import { recordRailOutcomes } from './record-rail-outcomes.ts';

/**
 * Applies what a rail pushed (a callback or webhook) once its adapter has verified it. The guarded status
 * changes make a repeated or early callback harmless: an order already final is left as it is.
 */
export async function acceptRailCallback(context: ServiceContext, rail: string, request: RailCallbackRequest): Promise<{ notifications: number; applied: number }> {
  if (!context.rails.ids().includes(rail)) throw notFound(`rail ${rail}`);
  const notifications = await context.rails.get(rail).parseCallback(request);
  const orders = await findOrdersByRailKeys(context.db, rail, notifications.map((notification) => notification.railKey));
  const waiting = orders.filter((order) => AWAITING_RAIL_STATUSES.includes(order.status));
  const outcomes = new Map(notifications.map((notification) => [notification.railKey, notification.outcome]));
  const followUps = await recordRailOutcomes(context, waiting, outcomes, 0);
  await scheduleInquiries(context, followUps);
  return { notifications: notifications.length, applied: waiting.length };
}
