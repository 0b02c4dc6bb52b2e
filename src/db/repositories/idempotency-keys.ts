import type { Database } from '../knex.ts';

export interface StoredResponse {
  readonly requestHash: string;
  /** null while the first request with this key is still being processed. */
  readonly status: number | null;
  readonly body: unknown;
}

export async function findIdempotentResponse(db: Database, organisationId: string, key: string): Promise<StoredResponse | undefined> {
  const row = await db('idempotency_keys').where({ organisation_id: organisationId, key }).first();
  return row ? { requestHash: row.request_hash, status: row.response_status, body: row.response_body } : undefined;
}

/** Takes the key before the work starts, so that concurrent requests with it cannot both do the work. */
export async function claimIdempotencyKey(db: Database, organisationId: string, key: string, requestHash: string): Promise<boolean> {
  const inserted = await db('idempotency_keys')
    .insert({ organisation_id: organisationId, key, request_hash: requestHash })
    .onConflict(['organisation_id', 'key'])
    .ignore()
    .returning('key');
  return inserted.length === 1;
}

export async function completeIdempotencyKey(db: Database, organisationId: string, key: string, response: { status: number; body: unknown }): Promise<void> {
  await db('idempotency_keys').where({ organisation_id: organisationId, key }).update({ response_status: response.status, response_body: JSON.stringify(response.body) });
}

/** Gives the key back when the work failed, so the client can retry with it. */
export async function releaseIdempotencyKey(db: Database, organisationId: string, key: string): Promise<void> {
  await db('idempotency_keys').where({ organisation_id: organisationId, key }).whereNull('response_status').delete();
}
