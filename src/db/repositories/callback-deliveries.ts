import type { Database } from '../knex.ts';

export interface NewCallbackDelivery {
  readonly organisationId: string;
  readonly url: string;
  readonly eventType: string;
  readonly body: unknown;
  readonly dedupeKey: string;
  /** Headers the receiving API defines (GovStack's X-CorrelationID and the like), sent with every attempt. */
  readonly headers?: Readonly<Record<string, string>>;
}

export interface CallbackDelivery {
  readonly id: string;
  readonly organisationId: string;
  readonly url: string;
  readonly eventType: string;
  readonly body: unknown;
  readonly status: 'pending' | 'delivered' | 'failed';
  readonly attempts: number;
  readonly createdAt: Date;
  /** The organisation's webhook signing secret, when it has configured an endpoint. */
  readonly secret: string | null;
  readonly headers: Readonly<Record<string, string>>;
}

/** The new delivery's id, or undefined when one with the same dedupe key exists already. */
export async function insertCallbackDelivery(db: Database, delivery: NewCallbackDelivery): Promise<string | undefined> {
  const [row] = await db('callback_deliveries')
    .insert({ organisation_id: delivery.organisationId, url: delivery.url, event_type: delivery.eventType, body: JSON.stringify(delivery.body), dedupe_key: delivery.dedupeKey, headers: delivery.headers ?? {} })
    .onConflict(['organisation_id', 'dedupe_key'])
    .ignore()
    .returning('id');
  return row?.id as string | undefined;
}

export async function findCallbackDelivery(db: Database, id: string): Promise<CallbackDelivery | undefined> {
  const row = await db('callback_deliveries as d')
    .leftJoin('webhook_endpoints as w', 'w.organisation_id', 'd.organisation_id')
    .select('d.*', 'w.secret')
    .where('d.id', id)
    .first();
  if (!row) return undefined;
  return {
    id: row.id, organisationId: row.organisation_id, url: row.url, eventType: row.event_type, body: row.body,
    status: row.status, attempts: row.attempts, createdAt: row.created_at, secret: row.secret ?? null, headers: row.headers,
  };
}

export interface CallbackAttempt {
  readonly responseStatus: number | null;
  readonly error: string | null;
}

/** Records one attempt's outcome; guarded on `pending` so a delivery that two jobs raced on is settled once. */
export async function recordCallbackAttempt(db: Database, id: string, attempt: CallbackAttempt, next: { status: CallbackDelivery['status']; nextAttemptAt: Date | null }): Promise<void> {
  await db('callback_deliveries')
    .where({ id, status: 'pending' })
    .update({
      status: next.status,
      attempts: db.raw('attempts + 1'),
      last_status: attempt.responseStatus,
      last_error: attempt.error,
      ...(next.nextAttemptAt ? { next_attempt_at: next.nextAttemptAt } : {}),
      ...(next.status === 'delivered' ? { delivered_at: db.fn.now() } : {}),
    });
}

export async function findOverdueCallbacks(db: Database, olderThan: Date, limit: number): Promise<string[]> {
  const rows = await db('callback_deliveries').select('id').where('status', 'pending').where('next_attempt_at', '<', olderThan).orderBy('next_attempt_at').limit(limit);
  return rows.map((row) => row.id as string);
}

/** Pushes overdue callbacks' due time forward once their work has been queued again. */
export async function postponeCallbacks(db: Database, ids: readonly string[], until: Date): Promise<void> {
  if (ids.length > 0) await db('callback_deliveries').whereIn('id', ids).where('status', 'pending').update({ next_attempt_at: until });
}
