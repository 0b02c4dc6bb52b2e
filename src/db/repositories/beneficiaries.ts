import type { Beneficiary, BeneficiaryAccount, ModalityCode } from '../../domain/beneficiary.ts';
import type { Database } from '../knex.ts';

/** At six bind parameters a row, this keeps a statement well inside PostgreSQL's 65,535. */
const ROWS_PER_STATEMENT = 5000;

function beneficiaryOf(row: Record<string, unknown>): Beneficiary {
  return {
    registeringInstitution: row.registering_institution as string,
    functionalId: row.functional_id as string,
    modality: row.modality as ModalityCode,
    financialAddress: row.financial_address as string,
    institutionCode: (row.institution_code as string | null) ?? null,
    createdAt: row.created_at as Date,
    updatedAt: row.updated_at as Date,
  };
}

/**
 * Registers what is new and leaves what exists as it is: a functional id already registered by the institution
 * comes back among the duplicates, its address untouched. The ids must be distinct.
 */
export async function insertBeneficiaries(db: Database, organisationId: string, registeringInstitution: string, accounts: readonly BeneficiaryAccount[]): Promise<{ inserted: Set<string>; duplicates: Set<string> }> {
  const inserted = new Set<string>();
  for (let start = 0; start < accounts.length; start += ROWS_PER_STATEMENT) {
    const rows = await db('beneficiaries')
      .insert(accounts.slice(start, start + ROWS_PER_STATEMENT).map((account) => ({
        organisation_id: organisationId,
        registering_institution: registeringInstitution,
        functional_id: account.functionalId,
        modality: account.modality,
        financial_address: account.financialAddress,
        institution_code: account.institutionCode,
      })))
      .onConflict(['organisation_id', 'registering_institution', 'functional_id'])
      .ignore()
      .returning('functional_id');
    for (const row of rows) inserted.add(row.functional_id as string);
  }
  const duplicates = new Set(accounts.map((account) => account.functionalId).filter((id) => !inserted.has(id)));
  return { inserted, duplicates };
}

function beneficiariesQuery(db: Database, organisationId: string, registeringInstitution: string, functionalIds: readonly string[]) {
  return db('beneficiaries')
    .select('*')
    .where({ organisation_id: organisationId, registering_institution: registeringInstitution })
    .whereRaw('functional_id = ANY(?::text[])', [[...functionalIds]]);
}

/** The institution's beneficiaries among `functionalIds`, keyed by functional id; ids not registered are absent. */
export async function findBeneficiaries(db: Database, organisationId: string, registeringInstitution: string, functionalIds: readonly string[]): Promise<Map<string, Beneficiary>> {
  const rows = await beneficiariesQuery(db, organisationId, registeringInstitution, functionalIds);
  return new Map(rows.map((row) => [row.functional_id as string, beneficiaryOf(row)]));
}

/** As findBeneficiaries, holding the rows until the transaction `trx` ends, so a change is decided on what it replaces. */
export async function lockBeneficiaries(trx: Database, organisationId: string, registeringInstitution: string, functionalIds: readonly string[]): Promise<Map<string, Beneficiary>> {
  const rows = await beneficiariesQuery(trx, organisationId, registeringInstitution, functionalIds).forUpdate();
  return new Map(rows.map((row) => [row.functional_id as string, beneficiaryOf(row)]));
}

/** Sets each named beneficiary's account, one statement per chunk; returns the functional ids that exist and were changed. */
export async function changeBeneficiaries(db: Database, organisationId: string, registeringInstitution: string, accounts: readonly BeneficiaryAccount[]): Promise<Set<string>> {
  const changed = new Set<string>();
  for (let start = 0; start < accounts.length; start += ROWS_PER_STATEMENT) {
    const values = accounts.slice(start, start + ROWS_PER_STATEMENT).map((account) => ({
      functional_id: account.functionalId,
      modality: account.modality,
      financial_address: account.financialAddress,
      institution_code: account.institutionCode,
    }));
    const { rows } = (await db.raw(
      `UPDATE beneficiaries AS b
          SET modality = v.modality, financial_address = v.financial_address, institution_code = v.institution_code, updated_at = now()
         FROM jsonb_to_recordset(?::jsonb) AS v(functional_id text, modality text, financial_address text, institution_code text)
        WHERE b.organisation_id = ? AND b.registering_institution = ? AND b.functional_id = v.functional_id
       RETURNING b.functional_id`,
      [JSON.stringify(values), organisationId, registeringInstitution],
    )) as { rows: { functional_id: string }[] };
    for (const row of rows) changed.add(row.functional_id);
  }
  return changed;
}
