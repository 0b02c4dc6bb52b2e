import type { Party } from '../../domain/order.ts';
import type { Database } from '../knex.ts';

/** A bank or wallet provider linked to Kassa to pay bills for its customers (GovStack's Payer FI). */
export interface PayerInstitution {
  readonly id: string;
  readonly organisationId: string;
  /** GovStack's X-PayerFI-Id (and payerFIBIC in a request to pay), unique in the deployment. */
  readonly code: string;
  readonly name: string;
  /** The account its bill payments are collected from: the payer of their fee orders. */
  readonly settlementAccount: Party;
  /** Where Kassa posts the requests to pay addressed to it; without one, it takes none. */
  readonly rtpUrl: string | null;
  readonly createdAt: Date;
}

interface PayerInstitutionRow {
  id: string;
  organisation_id: string;
  code: string;
  name: string;
  settlement_account: Party;
  rtp_url: string | null;
  created_at: Date;
}

function payerInstitutionFromRow(row: PayerInstitutionRow): PayerInstitution {
  return {
    id: row.id, organisationId: row.organisation_id, code: row.code, name: row.name, settlementAccount: row.settlement_account,
    rtpUrl: row.rtp_url, createdAt: row.created_at,
  };
}

/** Inserts the institution; answers false when its code is taken. */
export async function insertPayerInstitution(db: Database, institution: Omit<PayerInstitution, 'createdAt'>): Promise<boolean> {
  const inserted = await db('payer_institutions')
    .insert({
      id: institution.id, organisation_id: institution.organisationId, code: institution.code, name: institution.name,
      settlement_account: JSON.stringify(institution.settlementAccount), rtp_url: institution.rtpUrl,
    })
    .onConflict('code')
    .ignore()
    .returning('id');
  return inserted.length === 1;
}

export async function listPayerInstitutions(db: Database, organisationId: string): Promise<PayerInstitution[]> {
  return (await db<PayerInstitutionRow>('payer_institutions').where('organisation_id', organisationId).orderBy('code')).map(payerInstitutionFromRow);
}

export async function findPayerInstitution(db: Database, organisationId: string, id: string): Promise<PayerInstitution | undefined> {
  const row = await db<PayerInstitutionRow>('payer_institutions').where({ organisation_id: organisationId, id }).first();
  return row ? payerInstitutionFromRow(row) : undefined;
}

/** By its code, whichever organisation it belongs to. */
export async function findPayerInstitutionByCode(db: Database, code: string): Promise<PayerInstitution | undefined> {
  const row = await db<PayerInstitutionRow>('payer_institutions').where({ code }).first();
  return row ? payerInstitutionFromRow(row) : undefined;
}

/**
 * The institution holding an alias, as the organisation's account mapper knows it (GovStack's account lookup for a
 * request to pay of type 01): the beneficiary registered under the alias, most recently updated first.
 */
export async function findPayerInstitutionByAlias(db: Database, organisationId: string, alias: string): Promise<{ institution: PayerInstitution; financialAddress: string } | undefined> {
  const row = await db('beneficiaries as b')
    .join('payer_institutions as p', 'p.code', 'b.institution_code')
    .select('p.*', 'b.financial_address')
    .where({ 'b.organisation_id': organisationId, 'b.functional_id': alias })
    .orderBy('b.updated_at', 'desc')
    .first();
  return row ? { institution: payerInstitutionFromRow(row), financialAddress: row.financial_address as string } : undefined;
}
