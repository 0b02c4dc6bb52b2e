import type { Config } from '../config/index.ts';
import { backoffDelay } from '../domain/backoff.ts';
import { signWebhook } from '../domain/webhook-signature.ts';

/** A delivery still to be made: a webhook event, or a callback to a URL its requester gave. */
export interface PendingPost {
  readonly id: string;
  readonly url: string;
  readonly eventType: string;
  /** The organisation's webhook signing secret; without one the POST goes unsigned. */
  readonly secret: string | null;
  /** Attempts made before this one. */
  readonly attempts: number;
  readonly createdAt: Date;
  /** Headers the receiving API defines, sent besides Kassa's own. */
  readonly headers?: Readonly<Record<string, string>>;
}

export interface PostAttempt {
  /** The receiver's answer, or null when none came. */
  readonly responseStatus: number | null;
  /** Why no answer came (refused, timed out, …). */
  readonly error: string | null;
  readonly durationMs: number;
}

export interface NextDeliveryState {
  readonly status: 'pending' | 'delivered' | 'failed';
  readonly nextAttemptAt: Date | null;
}

const MAX_RETRY_DELAY_MS = 60 * 60 * 1000;

/**
 * Makes one attempt to POST `body` to the delivery's URL, signed like webhooks when there is a secret, and
 * settles what follows: delivered on a 2xx, else another attempt after a backoff, or failed once that attempt
 * would fall outside the retry window. The caller records the attempt and the new state in its own table.
 */
export async function attemptSignedPost(
  config: Pick<Config, 'WEBHOOK_TIMEOUT_MS' | 'WEBHOOK_BASE_DELAY_MS' | 'WEBHOOK_RETRY_WINDOW_MS'>,
  delivery: PendingPost,
  body: string,
): Promise<{ attempt: PostAttempt; next: NextDeliveryState; retryInMs: number | undefined }> {
  const started = performance.now();
  let responseStatus: number | null = null;
  let error: string | null = null;
  try {
    const response = await fetch(delivery.url, {
      method: 'POST',
      headers: {
        ...delivery.headers,
        'content-type': 'application/json',
        ...(delivery.secret ? { 'kassa-signature': signWebhook(delivery.secret, body, Math.floor(Date.now() / 1000)) } : {}),
        'kassa-event': delivery.eventType,
        'kassa-delivery': delivery.id,
      },
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(config.WEBHOOK_TIMEOUT_MS),
    });
    responseStatus = response.status;
    await response.body?.cancel();
  } catch (failure) {
    error = (failure as Error).message;
  }
  const durationMs = Math.round(performance.now() - started);
  const delivered = responseStatus !== null && responseStatus >= 200 && responseStatus < 300;
  const delayMs = backoffDelay(delivery.attempts, config.WEBHOOK_BASE_DELAY_MS, MAX_RETRY_DELAY_MS);
  const windowClosed = Date.now() + delayMs > delivery.createdAt.getTime() + config.WEBHOOK_RETRY_WINDOW_MS;
  const status = delivered ? 'delivered' : windowClosed ? 'failed' : 'pending';
  return {
    attempt: { responseStatus, error, durationMs },
    next: { status, nextAttemptAt: status === 'pending' ? new Date(Date.now() + delayMs) : null },
    retryInMs: status === 'pending' ? delayMs : undefined,
  };
}
