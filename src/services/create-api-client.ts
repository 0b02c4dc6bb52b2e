import { generateApiKey } from '../domain/api-key.ts';
import type { Scope } from '../domain/scopes.ts';
import type { AuditEntry } from '../db/repositories/audit-log.ts';
import { appendAudit } from '../db/repositories/audit-log.ts';
import { ensureOrganisation, insertApiClient } from '../db/repositories/api-clients.ts';
import type { Database } from '../db/knex.ts';

export interface CreatedApiClient {
  readonly id: string;
  readonly organisationId: string;
  readonly name: string;
  readonly scopes: readonly Scope[];
  /** Shown once: only its hash is kept. */
  readonly apiKey: string;
}

/** Issues a credential for an organisation (created on first use); used by the CLI and by admins over HTTP. */
export async function createApiClient(
  db: Database,
  request: { organisation: string; name: string; scopes: readonly Scope[] },
  actor: Omit<AuditEntry, 'action' | 'target' | 'organisationId' | 'detail'>,
): Promise<CreatedApiClient> {
  const generated = generateApiKey();
  return db.transaction(async (trx) => {
    const organisationId = await ensureOrganisation(trx, request.organisation);
    const id = await insertApiClient(trx, { organisationId, name: request.name, keyPrefix: generated.prefix, keyHash: generated.hash, scopes: request.scopes });
    await appendAudit(trx, { ...actor, organisationId, action: 'api_client.create', target: id, detail: { name: request.name, scopes: request.scopes } });
    return { id, organisationId, name: request.name, scopes: request.scopes, apiKey: generated.key };
  });
}
