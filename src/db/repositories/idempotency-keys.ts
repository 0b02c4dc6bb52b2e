import type { Database } from '../knex.ts';

export interface StoredResponse {
  readonly requestHash: string;
  readonly status: number;
  readonly body: unknown;
}

export async function findIdempotentResponse(db: Database, organisationId: string, key: string): Promise<StoredResponse | undefined> {
  const row = await db('idempotency_keys').where({ organisation_id: organisationId, key }).first();
  return row ? { requestHash: row.request_hash, status: row.response_status, body: row.response_body } : undefined;
}

/** Records a response unless the key was taken meanwhile; returns false when it was. */
export async function storeIdempotentResponse(db: Database, organisationId: string, key: string, response: StoredResponse): Promise<boolean> {
  const inserted = await db('idempotency_keys')
    .insert({ organisation_id: organisationId, key, request_hash: response.requestHash, response_status: response.status, response_body: JSON.stringify(response.body) })
    .onConflict(['organisation_id', 'key'])
    .ignore()
    .returning('key');
  return inserted.length === 1;
}
