import { findCallbackDelivery, recordCallbackAttempt } from '../db/repositories/callback-deliveries.ts';
import type { ServiceContext } from './context.ts';
import { attemptSignedPost } from './signed-post.ts';

const MAX_ERROR_LENGTH = 500;

/**
 * Posts one callback body to the URL its requester gave, signed like webhooks when the organisation has an
 * endpoint secret, and records the attempt. Returns how long to wait before the next attempt, or nothing once
 * it was delivered or the retry window has closed.
 */
export async function deliverCallback(context: Pick<ServiceContext, 'db' | 'config' | 'logger'>, deliveryId: string): Promise<number | undefined> {
  const delivery = await findCallbackDelivery(context.db, deliveryId);
  if (!delivery || delivery.status !== 'pending') return undefined;
  const { attempt, next, retryInMs } = await attemptSignedPost(context.config, delivery, JSON.stringify(delivery.body));
  await recordCallbackAttempt(context.db, delivery.id, { responseStatus: attempt.responseStatus, error: attempt.error?.slice(0, MAX_ERROR_LENGTH) ?? null }, next);
  if (next.status === 'failed') context.logger.warn({ deliveryId, eventType: delivery.eventType, lastStatus: attempt.responseStatus }, 'callback abandoned after its retry window');
  return retryInMs;
}
