import { backoffDelay } from '../domain/backoff.ts';
import { signWebhook } from '../domain/webhook-signature.ts';
import { loadOrders } from '../db/repositories/orders.ts';
import { findDelivery, recordAttempt } from '../db/repositories/webhooks.ts';
import type { ServiceContext } from './context.ts';
import { presentOrder } from './present-order.ts';

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
  const started = performance.now();
  let responseStatus: number | null = null;
  let error: string | null = null;
  try {
    const response = await fetch(delivery.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'kassa-signature': signWebhook(delivery.secret, body, Math.floor(Date.now() / 1000)),
        'kassa-event': delivery.eventType,
        'kassa-delivery': delivery.id,
      },
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(context.config.WEBHOOK_TIMEOUT_MS),
    });
    responseStatus = response.status;
    await response.body?.cancel();
  } catch (failure) {
    error = (failure as Error).message;
  }
  const durationMs = Math.round(performance.now() - started);
  const delivered = responseStatus !== null && responseStatus >= 200 && responseStatus < 300;
  const delayMs = backoffDelay(delivery.attempts, context.config.WEBHOOK_BASE_DELAY_MS, 60 * 60 * 1000);
  const windowClosed = Date.now() + delayMs > delivery.createdAt.getTime() + context.config.WEBHOOK_RETRY_WINDOW_MS;
  const status = delivered ? 'delivered' : windowClosed ? 'failed' : 'pending';
  await recordAttempt(context.db, delivery.id, { responseStatus, error, durationMs }, { status, nextAttemptAt: status === 'pending' ? new Date(Date.now() + delayMs) : null });
  if (status === 'failed') context.logger.warn({ deliveryId, orderId: delivery.orderId }, 'webhook delivery abandoned after its retry window');
  return status === 'pending' ? delayMs : undefined;
}
