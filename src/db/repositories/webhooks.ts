import type { Database } from '../knex.ts';

export interface WebhookDelivery {
  readonly id: string;
  readonly organisationId: string;
  readonly orderId: string;
  readonly eventType: string;
  readonly url: string;
  readonly status: 'pending' | 'delivered' | 'failed';
  readonly attempts: number;
  readonly createdAt: Date;
  readonly secret: string;
}

export async function setWebhookEndpoint(db: Database, organisationId: string, url: string, secret: string): Promise<void> {
  await db('webhook_endpoints')
    .insert({ organisation_id: organisationId, url, secret, updated_at: db.fn.now() })
    .onConflict('organisation_id')
    .merge();
}

export async function findWebhookEndpoint(db: Database, organisationId: string): Promise<{ url: string } | undefined> {
  return db('webhook_endpoints').select('url').where({ organisation_id: organisationId }).first();
}

export async function findDelivery(db: Database, id: string): Promise<WebhookDelivery | undefined> {
  const row = await db('webhook_deliveries as d')
    .join('webhook_endpoints as w', 'w.organisation_id', 'd.organisation_id')
    .select('d.*', 'w.secret')
    .where('d.id', id)
    .first();
  if (!row) return undefined;
  return {
    id: row.id, organisationId: row.organisation_id, orderId: row.order_id, eventType: row.event_type, url: row.url,
    status: row.status, attempts: row.attempts, createdAt: row.created_at, secret: row.secret,
  };
}

export interface AttemptRecord {
  readonly responseStatus: number | null;
  readonly error: string | null;
  readonly durationMs: number;
}

/** Records one attempt and the delivery's new state together. */
export async function recordAttempt(db: Database, deliveryId: string, attempt: AttemptRecord, next: { status: WebhookDelivery['status']; nextAttemptAt: Date | null }): Promise<void> {
  await db.transaction(async (trx) => {
    await trx('webhook_attempts').insert({ delivery_id: deliveryId, response_status: attempt.responseStatus, error: attempt.error, duration_ms: attempt.durationMs });
    await trx('webhook_deliveries')
      .where({ id: deliveryId, status: 'pending' })
      .update({ status: next.status, attempts: trx.raw('attempts + 1'), ...(next.nextAttemptAt ? { next_attempt_at: next.nextAttemptAt } : {}) });
  });
}

export async function findOverdueDeliveries(db: Database, olderThan: Date, limit: number): Promise<string[]> {
  const rows = await db('webhook_deliveries').select('id').where('status', 'pending').where('next_attempt_at', '<', olderThan).orderBy('next_attempt_at').limit(limit);
  return rows.map((row) => row.id as string);
}

/** Pushes overdue deliveries' due time forward once their work has been queued again. */
export async function postponeDeliveries(db: Database, ids: readonly string[], until: Date): Promise<void> {
  if (ids.length > 0) await db('webhook_deliveries').whereIn('id', ids).where('status', 'pending').update({ next_attempt_at: until });
}
