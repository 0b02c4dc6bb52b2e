import type { Party } from '../../domain/order.ts';
import type { Database } from '../knex.ts';

export interface Biller {
  readonly id: string;
  readonly organisationId: string;
  /** GovStack's billerId, unique in the deployment. */
  readonly code: string;
  readonly name: string;
  readonly currency: string;
  /** Where its bills are paid to: the payee of every bill payment's fee order. */
  readonly account: Party;
  /** The base URL of its GovStack bill source (GET /bills/{billId}, POST /billTransferRequests); null when Kassa holds its register. */
  readonly billSourceUrl: string | null;
  readonly prefixes: readonly string[];
  readonly createdAt: Date;
}

interface BillerRow {
  id: string;
  organisation_id: string;
  code: string;
  name: string;
  currency: string;
  account: Party;
  bill_source_url: string | null;
  prefixes: string[];
  created_at: Date;
}

function billerFromRow(row: BillerRow): Biller {
  return {
    id: row.id, organisationId: row.organisation_id, code: row.code, name: row.name, currency: row.currency.trim(), account: row.account,
    billSourceUrl: row.bill_source_url, prefixes: [...row.prefixes].sort(), createdAt: row.created_at,
  };
}

const selectBillers = (db: Database) =>
  db('billers as b').select('b.*', db.raw('ARRAY(SELECT prefix FROM biller_prefixes p WHERE p.biller_id = b.id) AS prefixes'));

export type NewBiller = Omit<Biller, 'prefixes' | 'createdAt'>;

/** Inserts the biller; answers false when its code is taken. */
export async function insertBiller(db: Database, biller: NewBiller): Promise<boolean> {
  const inserted = await db('billers')
    .insert({
      id: biller.id, organisation_id: biller.organisationId, code: biller.code, name: biller.name, currency: biller.currency,
      account: JSON.stringify(biller.account), bill_source_url: biller.billSourceUrl,
    })
    .onConflict('code')
    .ignore()
    .returning('id');
  return inserted.length === 1;
}

/**
 * Gives the prefixes to the biller unless another biller holds one of them, or one that starts one of them or
 * starts with one: then answers those and gives none. Prefixes are the deployment's one namespace of bill IDs,
 * so no biller's prefix may take over part of another's. Run inside a transaction: the table lock taken here
 * keeps two registrations from each missing the other's prefix.
 */
export async function claimBillerPrefixes(trx: Database, billerId: string, prefixes: readonly string[]): Promise<string[]> {
  await trx.raw('LOCK TABLE biller_prefixes IN SHARE ROW EXCLUSIVE MODE');
  const { rows } = (await trx.raw(
    `SELECT DISTINCT held.prefix FROM biller_prefixes held, unnest(?::text[]) AS wanted(prefix)
     WHERE held.biller_id <> ? AND (left(wanted.prefix, length(held.prefix)) = held.prefix OR left(held.prefix, length(wanted.prefix)) = wanted.prefix)
     ORDER BY held.prefix`,
    [[...prefixes], billerId],
  )) as { rows: { prefix: string }[] };
  if (rows.length > 0) return rows.map((row) => row.prefix);
  await trx('biller_prefixes').insert(prefixes.map((prefix) => ({ prefix, biller_id: billerId }))).onConflict('prefix').ignore();
  return [];
}

export async function listBillers(db: Database, organisationId: string): Promise<Biller[]> {
  return (await selectBillers(db).where('b.organisation_id', organisationId).orderBy('b.code')).map(billerFromRow);
}

export async function findBiller(db: Database, organisationId: string, id: string): Promise<Biller | undefined> {
  const row = await selectBillers(db).where({ 'b.organisation_id': organisationId, 'b.id': id }).first();
  return row ? billerFromRow(row) : undefined;
}

/** By its GovStack billerId, whichever organisation it belongs to. */
export async function findBillerByCode(db: Database, code: string): Promise<Biller | undefined> {
  const row = await selectBillers(db).where('b.code', code).first();
  return row ? billerFromRow(row) : undefined;
}

/** The biller one of whose prefixes starts the bill ID; prefixes of different billers never nest, so there is one. */
export async function findBillerForBill(db: Database, billId: string): Promise<Biller | undefined> {
  const row = await selectBillers(db)
    .whereExists((owned) => owned.select(db.raw(1)).from('biller_prefixes as owned').whereRaw('owned.biller_id = b.id').whereRaw('left(?, length(owned.prefix)) = owned.prefix', [billId]))
    .first();
  return row ? billerFromRow(row) : undefined;
}
