import type { Party } from '../../domain/order.ts';
import type { MerchantKind } from '../../domain/voucher.ts';
import type { Database } from '../knex.ts';

/** A merchant, or a cash-out agent, that redeems vouchers and is paid for them at its registered account. */
export interface Merchant {
  readonly id: string;
  readonly organisationId: string;
  /** GovStack's agentID: up to 10 characters. */
  readonly code: string;
  readonly name: string;
  readonly kind: MerchantKind;
  readonly account: Party;
  /** The voucher groups it may redeem; null: every group. */
  readonly voucherGroups: string[] | null;
  /** The credential that redeems as this merchant, when it has one of its own. */
  readonly apiClientId: string | null;
  /** The biller it stands for, when bills of that biller paid with the organisation's vouchers are paid out to it. */
  readonly billerId: string | null;
  readonly createdAt: Date;
}

interface MerchantRow {
  id: string;
  organisation_id: string;
  code: string;
  name: string;
  kind: MerchantKind;
  account: Party;
  voucher_groups: string[] | null;
  api_client_id: string | null;
  biller_id: string | null;
  created_at: Date;
}

function merchantFromRow(row: MerchantRow): Merchant {
  return {
    id: row.id, organisationId: row.organisation_id, code: row.code, name: row.name, kind: row.kind, account: row.account,
    voucherGroups: row.voucher_groups, apiClientId: row.api_client_id, billerId: row.biller_id, createdAt: row.created_at,
  };
}

/** A merchant standing for no biller leaves `billerId` out. */
export type NewMerchant = Omit<Merchant, 'createdAt' | 'billerId'> & { readonly billerId?: string | null };

/** Inserts the merchant; answers false when the organisation already has one under this code. */
export async function insertMerchant(db: Database, merchant: NewMerchant): Promise<boolean> {
  const inserted = await db('merchants')
    .insert({
      id: merchant.id, organisation_id: merchant.organisationId, code: merchant.code, name: merchant.name, kind: merchant.kind,
      account: JSON.stringify(merchant.account), voucher_groups: merchant.voucherGroups, api_client_id: merchant.apiClientId, biller_id: merchant.billerId ?? null,
    })
    .onConflict(['organisation_id', 'code'])
    .ignore()
    .returning('id');
  return inserted.length === 1;
}

export async function findMerchant(db: Database, organisationId: string, id: string): Promise<Merchant | undefined> {
  const row = await db<MerchantRow>('merchants').where({ organisation_id: organisationId, id }).first();
  return row ? merchantFromRow(row) : undefined;
}

export async function listMerchants(db: Database, organisationId: string): Promise<Merchant[]> {
  return (await db<MerchantRow>('merchants').where({ organisation_id: organisationId }).orderBy('code')).map(merchantFromRow);
}

export async function findMerchantOfClient(db: Database, apiClientId: string): Promise<Merchant | undefined> {
  const row = await db<MerchantRow>('merchants').where({ api_client_id: apiClientId }).first();
  return row ? merchantFromRow(row) : undefined;
}

export async function findMerchantByCode(db: Database, organisationId: string, code: string): Promise<Merchant | undefined> {
  const row = await db<MerchantRow>('merchants').where({ organisation_id: organisationId, code }).first();
  return row ? merchantFromRow(row) : undefined;
}

/** The merchant the organisation pays out to for bills of the biller that are paid with its vouchers. */
export async function findMerchantOfBiller(db: Database, organisationId: string, billerId: string): Promise<Merchant | undefined> {
  const row = await db<MerchantRow>('merchants').where({ organisation_id: organisationId, biller_id: billerId }).first();
  return row ? merchantFromRow(row) : undefined;
}

/** The merchant a legacy redemption names: by its name (or code), case aside, paid at exactly this account. */
export async function findMerchantByNameAndAccount(db: Database, organisationId: string, name: string, accountValue: string): Promise<Merchant | undefined> {
  const row = await db<MerchantRow>('merchants')
    .where({ organisation_id: organisationId })
    .where((query) => query.whereRaw('lower(name) = lower(?)', [name]).orWhereRaw('lower(code) = lower(?)', [name]))
    .whereRaw(`account->>'value' = ?`, [accountValue])
    .orderBy('code')
    .first();
  return row ? merchantFromRow(row) : undefined;
}
