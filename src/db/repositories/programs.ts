import type { Party } from '../../domain/order.ts';
import type { Database } from '../knex.ts';

export interface Program {
  readonly id: string;
  readonly organisationId: string;
  readonly code: string;
  readonly name: string;
  readonly currency: string;
  /** The government account benefits are paid from. */
  readonly fundingAccount: Party;
  readonly budgetMinor: bigint;
  readonly reservedMinor: bigint;
  readonly disbursedMinor: bigint;
  readonly approvalThresholdMinor: bigint;
  readonly isDefault: boolean;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

interface ProgramRow {
  id: string;
  organisation_id: string;
  code: string;
  name: string;
  currency: string;
  funding_account: Party;
  budget_minor: string;
  reserved_minor: string;
  disbursed_minor: string;
  approval_threshold_minor: string;
  is_default: boolean;
  created_at: Date;
  updated_at: Date;
}

function programFromRow(row: ProgramRow): Program {
  return {
    id: row.id,
    organisationId: row.organisation_id,
    code: row.code,
    name: row.name,
    currency: row.currency.trim(),
    fundingAccount: row.funding_account,
    budgetMinor: BigInt(row.budget_minor),
    reservedMinor: BigInt(row.reserved_minor),
    disbursedMinor: BigInt(row.disbursed_minor),
    approvalThresholdMinor: BigInt(row.approval_threshold_minor),
    isDefault: row.is_default,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export type NewProgram = Pick<Program, 'id' | 'organisationId' | 'code' | 'name' | 'currency' | 'fundingAccount' | 'budgetMinor' | 'approvalThresholdMinor' | 'isDefault'>;

/** Inserts the program; answers false when the organisation already has one under this code. */
export async function insertProgram(db: Database, program: NewProgram): Promise<boolean> {
  const { rows } = (await db.raw(
    `INSERT INTO programs (id, organisation_id, code, name, currency, funding_account, budget_minor, approval_threshold_minor, is_default)
     VALUES (?, ?, ?, ?, ?, ?::jsonb, ?, ?, ?)
     ON CONFLICT (organisation_id, code) DO NOTHING RETURNING id`,
    [program.id, program.organisationId, program.code, program.name, program.currency, JSON.stringify(program.fundingAccount),
      program.budgetMinor.toString(), program.approvalThresholdMinor.toString(), program.isDefault],
  )) as { rows: { id: string }[] };
  return rows.length === 1;
}

/** The default program loses the flag when another becomes the default. */
export async function clearDefaultProgram(db: Database, organisationId: string): Promise<void> {
  await db('programs').where({ organisation_id: organisationId, is_default: true }).update({ is_default: false, updated_at: db.fn.now() });
}

export async function findProgram(db: Database, organisationId: string, id: string): Promise<Program | undefined> {
  const row = await db<ProgramRow>('programs').where({ organisation_id: organisationId, id }).first();
  return row ? programFromRow(row) : undefined;
}

/** By its code, or the organisation's default program when no code is given. */
export async function findProgramByCode(db: Database, organisationId: string, code: string | undefined): Promise<Program | undefined> {
  const query = db<ProgramRow>('programs').where({ organisation_id: organisationId });
  const row = await (code === undefined ? query.where({ is_default: true }) : query.where({ code })).first();
  return row ? programFromRow(row) : undefined;
}

export async function listPrograms(db: Database, organisationId: string): Promise<Program[]> {
  return (await db<ProgramRow>('programs').where({ organisation_id: organisationId }).orderBy('code')).map(programFromRow);
}

/** Blocks `amount` of the budget; answers false, changing nothing, when what is left does not cover it. */
export async function reserveFunds(db: Database, programId: string, amountMinor: bigint): Promise<boolean> {
  const count = await db('programs')
    .where('id', programId)
    .whereRaw('budget_minor - reserved_minor - disbursed_minor >= ?', [amountMinor.toString()])
    .update({ reserved_minor: db.raw('reserved_minor + ?', [amountMinor.toString()]), updated_at: db.fn.now() });
  return count === 1;
}

/** Moves blocked funds: `disbursed` to spent, `released` back to what is available. */
export async function settleFunds(db: Database, programId: string, disbursedMinor: bigint, releasedMinor: bigint): Promise<void> {
  if (disbursedMinor === 0n && releasedMinor === 0n) return;
  await db('programs').where('id', programId).update({
    reserved_minor: db.raw('reserved_minor - ? - ?', [disbursedMinor.toString(), releasedMinor.toString()]),
    disbursed_minor: db.raw('disbursed_minor + ?', [disbursedMinor.toString()]),
    updated_at: db.fn.now(),
  });
}

/**
 * Sets what an administrator may change on a program. A budget below what is already blocked and spent breaks
 * the table's `programs_within_budget` check, so it is refused by the database whoever asks.
 */
export async function updateProgramTerms(db: Database, programId: string, terms: Pick<Program, 'name' | 'fundingAccount' | 'budgetMinor' | 'approvalThresholdMinor' | 'isDefault'>): Promise<void> {
  await db('programs').where('id', programId).update({
    name: terms.name,
    funding_account: JSON.stringify(terms.fundingAccount),
    budget_minor: terms.budgetMinor.toString(),
    approval_threshold_minor: terms.approvalThresholdMinor.toString(),
    is_default: terms.isDefault,
    updated_at: db.fn.now(),
  });
}

export async function findProgramsByIds(db: Database, ids: readonly string[]): Promise<Map<string, Program>> {
  const rows = (await db('programs').whereIn('id', [...ids])) as ProgramRow[];
  return new Map(rows.map((row) => [row.id, programFromRow(row)]));
}
