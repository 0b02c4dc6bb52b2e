import type { Scope } from '../../domain/scopes.ts';
import type { Database } from '../knex.ts';

export interface ApiClientRecord {
  readonly id: string;
  readonly organisationId: string;
  readonly organisationName: string;
  readonly name: string;
  readonly keyPrefix: string;
  readonly scopes: Scope[];
  readonly revokedAt: Date | null;
}

export async function ensureOrganisation(db: Database, name: string): Promise<string> {
  const [row] = await db('organisations').insert({ name }).onConflict('name').merge({ name }).returning('id');
  return row.id as string;
}

export async function insertApiClient(db: Database, client: { organisationId: string; name: string; keyPrefix: string; keyHash: string; scopes: readonly Scope[] }): Promise<string> {
  const [row] = await db('api_clients')
    .insert({ organisation_id: client.organisationId, name: client.name, key_prefix: client.keyPrefix, key_hash: client.keyHash, scopes: client.scopes })
    .returning('id');
  return row.id as string;
}

const selectClient = (db: Database) =>
  db('api_clients as c')
    .join('organisations as o', 'o.id', 'c.organisation_id')
    .select('c.id', 'c.organisation_id', 'o.name as organisation_name', 'c.name', 'c.key_prefix', 'c.scopes', 'c.revoked_at');

function clientFromRow(row: Record<string, unknown>): ApiClientRecord {
  return {
    id: row.id as string,
    organisationId: row.organisation_id as string,
    organisationName: row.organisation_name as string,
    name: row.name as string,
    keyPrefix: row.key_prefix as string,
    scopes: row.scopes as Scope[],
    revokedAt: row.revoked_at as Date | null,
  };
}

export async function findActiveClientByKeyHash(db: Database, keyHash: string): Promise<ApiClientRecord | undefined> {
  const row = await selectClient(db).where('c.key_hash', keyHash).whereNull('c.revoked_at').first();
  return row ? clientFromRow(row) : undefined;
}

export async function listClients(db: Database, organisationId?: string): Promise<ApiClientRecord[]> {
  const query = selectClient(db).orderBy('c.created_at');
  if (organisationId) query.where('c.organisation_id', organisationId);
  return (await query).map(clientFromRow);
}

export async function revokeClient(db: Database, organisationId: string, clientId: string): Promise<boolean> {
  const updated = await db('api_clients').where({ id: clientId, organisation_id: organisationId }).whereNull('revoked_at').update({ revoked_at: db.fn.now() });
  return updated === 1;
}

export async function findOrganisationId(db: Database, name: string): Promise<string | undefined> {
  const row = await db('organisations').select('id').where({ name }).first();
  return row?.id as string | undefined;
}

/** The organisation's credential of this name that is still in use, with its key's hash to compare against. */
export async function findActiveClientByName(db: Database, organisationId: string, name: string): Promise<(ApiClientRecord & { keyHash: string }) | undefined> {
  const row = await selectClient(db).select('c.key_hash').where({ 'c.organisation_id': organisationId, 'c.name': name }).whereNull('c.revoked_at').orderBy('c.created_at').first();
  return row ? { ...clientFromRow(row), keyHash: row.key_hash as string } : undefined;
}
