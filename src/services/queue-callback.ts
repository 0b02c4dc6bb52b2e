import { afterCommit } from '../db/after-commit.ts';
import { insertCallbackDelivery } from '../db/repositories/callback-deliveries.ts';
import type { Database } from '../db/knex.ts';
import type { ServiceContext } from './context.ts';

export interface CallbackRequest {
  readonly organisationId: string;
  /** The caller-given X-Callback-URL. */
  readonly url: string;
  readonly eventType: string;
  /** Sent as the JSON body, exactly the shape the receiving API defines. */
  readonly body: unknown;
  /** Names the result being reported: a second callback with the same key for the organisation is dropped. */
  readonly dedupeKey: string;
  /** Headers the receiving API defines, sent with every attempt. */
  readonly headers?: Readonly<Record<string, string>>;
}

/**
 * Saves a callback for delivery and queues its job. Given a caller's transaction `db`, the row commits (or not)
 * with the caller's own writes and the job is queued only after the commit. Returns the delivery's id, or
 * undefined when the same dedupe key was queued before. A job that fails to queue is logged, not thrown: the
 * row is saved, and the sweeper queues overdue rows again.
 */
export async function queueCallback(context: Pick<ServiceContext, 'db' | 'queues' | 'logger'>, callback: CallbackRequest, db: Database = context.db): Promise<string | undefined> {
  const deliveryId = await insertCallbackDelivery(db, callback);
  if (deliveryId === undefined) return undefined;
  await afterCommit(
    db,
    () => context.queues.deliverCallbacks([{ deliveryId }]),
    (error) => context.logger.warn({ err: error, deliveryId }, 'callback saved but not queued; the sweeper queues it once overdue'),
  );
  return deliveryId;
}
