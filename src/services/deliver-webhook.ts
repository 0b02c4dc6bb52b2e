import { loadOrders } from '../db/repositories/orders.ts';
import { findDelivery, recordAttempt } from '../db/repositories/webhooks.ts';
import type { ServiceContext } from './context.ts';
import { presentOrder } from './present-order.ts';
import { attemptSignedPost } from './signed-post.ts';

/**
 * Posts one signed event to the organisation's endpoint and records the attempt. Returns how long to wait
 * before the next attempt, or nothing once it was delivered or the retry window has closed.
 */
export async function deliverWebhook(context: Pick<ServiceContext, 'db' | 'config' | 'logger'>, deliveryId: string): Promise<number | undefined> {
  const delivery = await findDelivery(context.db, deliveryId);
  if (!delivery || delivery.status !== 'pending') return undefined;
  const [order] = await loadOrders(context.db, [delivery.orderId]);
  if (!order) return undefined;
  const body = JSON.stringify({ id: delivery.id, type: delivery.eventType, created_at: delivery.createdAt.toISOString(), data: presentOrder(order) });
  const { attempt, next, retryInMs } = await attemptSignedPost(context.config, delivery, body);
  await recordAttempt(context.db, delivery.id, attempt, next);
  if (next.status === 'failed') context.logger.warn({ deliveryId, orderId: delivery.orderId }, 'webhook delivery abandoned after its retry window');
  return retryInMs;
}
