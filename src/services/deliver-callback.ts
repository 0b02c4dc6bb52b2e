import { backoffDelay } from '../domain/backoff.ts';
import { signWebhook } from '../domain/webhook-signature.ts';
import { findCallbackDelivery, recordCallbackAttempt } from '../db/repositories/callback-deliveries.ts';
import type { ServiceContext } from './context.ts';

const MAX_ERROR_LENGTH = 500;

/**
 * Posts one callback body to the URL its requester gave, signed like webhooks when the organisation has an
 * endpoint secret, and records the attempt. Returns how long to wait before the next attempt, or nothing once
 * it was delivered or the retry window has closed.
 */
export async function deliverCallback(context: Pick<ServiceContext, 'db' | 'config' | 'logger'>, deliveryId: string): Promise<number | undefined> {
  const delivery = await findCallbackDelivery(context.db, deliveryId);
  if (!delivery || delivery.status !== 'pending') return undefined;
  const body = JSON.stringify(delivery.body);
  let responseStatus: number | null = null;
  let error: string | null = null;
  try {
    const response = await fetch(delivery.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(delivery.secret ? { 'kassa-signature': signWebhook(delivery.secret, body, Math.floor(Date.now() / 1000)) } : {}),
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
    error = (failure as Error).message.slice(0, MAX_ERROR_LENGTH);
  }
  const delivered = responseStatus !== null && responseStatus >= 200 && responseStatus < 300;
  const delayMs = backoffDelay(delivery.attempts, context.config.WEBHOOK_BASE_DELAY_MS, 60 * 60 * 1000);
  const windowClosed = Date.now() + delayMs > delivery.createdAt.getTime() + context.config.WEBHOOK_RETRY_WINDOW_MS;
  const status = delivered ? 'delivered' : windowClosed ? 'failed' : 'pending';
  await recordCallbackAttempt(context.db, delivery.id, { responseStatus, error }, { status, nextAttemptAt: status === 'pending' ? new Date(Date.now() + delayMs) : null });
  if (status === 'failed') context.logger.warn({ deliveryId, eventType: delivery.eventType, lastStatus: responseStatus }, 'callback abandoned after its retry window');
  return status === 'pending' ? delayMs : undefined;
}
