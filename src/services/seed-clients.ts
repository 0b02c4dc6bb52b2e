import { isDeepStrictEqual } from 'node:util';
import { generateApiKey, hashApiKey, storedFormOf } from '../domain/api-key.ts';
import type { Scope } from '../domain/scopes.ts';
import { findActiveClientByName, insertApiClient } from '../db/repositories/api-clients.ts';
import { appendAudit, type AuditEntry } from '../db/repositories/audit-log.ts';
import type { Database } from '../db/knex.ts';
import { SeedConflict, type SeedCounts } from './seed-outcome.ts';

type Actor = Omit<AuditEntry, 'action' | 'target' | 'organisationId' | 'detail'>;

export interface SeedClient {
  readonly name: string;
  readonly scopes: readonly Scope[];
  /** A fixed key, for environments whose scripts hold it; without one Kassa issues a key. */
  readonly key?: string;
}

/**
 * A credential by its name in the organisation: one that exists must hold the file's scopes (and key, when the
 * file gives one), since a seed never widens or swaps a credential in use; a missing one is issued.
 */
export async function seedClient(trx: Database, owner: { organisationId: string; organisation: string }, client: SeedClient, actor: Actor): Promise<{ result: keyof SeedCounts; clientId: string; issuedKey?: string }> {
  const { organisationId, organisation } = owner;
  const existing = await findActiveClientByName(trx, organisationId, client.name);
  if (existing) {
    if (client.key !== undefined && existing.keyHash !== hashApiKey(client.key)) {
      throw new SeedConflict(`organisation "${organisation}" already has a credential "${client.name}" with another key: revoke it first`);
    }
    if (!isDeepStrictEqual([...existing.scopes].sort(), [...client.scopes].sort())) {
      throw new SeedConflict(`organisation "${organisation}" already has a credential "${client.name}" with scopes ${existing.scopes.join(', ')}: revoke it first`);
    }
    return { result: 'unchanged', clientId: existing.id };
  }
  const key = client.key ?? generateApiKey().key;
  const stored = storedFormOf(key);
  const id = await insertApiClient(trx, { organisationId, name: client.name, keyPrefix: stored.prefix, keyHash: stored.hash, scopes: client.scopes });
  await appendAudit(trx, { ...actor, organisationId, action: 'api_client.create', target: id, detail: { name: client.name, scopes: client.scopes, seeded: true } });
  return { result: 'created', clientId: id, issuedKey: client.key === undefined ? key : undefined };
}
