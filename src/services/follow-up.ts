import { scheduleChecks } from '../db/repositories/orders.ts';
import type { ServiceContext } from './context.ts';
import type { FollowUp } from './record-rail-outcomes.ts';

/**
 * Schedules status inquiries and records when each order is next due a look. A `recovery` inquiry gets a
 * job id of its own, so that a job left behind by a crashed worker (still active, or failed) cannot block it.
 */
export async function scheduleInquiries(context: Pick<ServiceContext, 'db' | 'queues'>, followUps: readonly FollowUp[], options: { recovery?: boolean } = {}): Promise<void> {
  if (followUps.length === 0) return;
  await context.queues.inquire(followUps.map((followUp) => ({ data: { orderId: followUp.orderId, attempt: followUp.attempt }, delayMs: followUp.delayMs, recovery: options.recovery })));
  const now = Date.now();
  await scheduleChecks(context.db, followUps.map((followUp) => ({ id: followUp.orderId, at: new Date(now + followUp.delayMs) })));
}
