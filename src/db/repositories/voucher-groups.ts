import type { Database } from '../knex.ts';

/** Vouchers of a group are funded by the group's program and stay valid for the group's validity. */
export interface VoucherGroup {
  readonly id: string;
  readonly organisationId: string;
  readonly code: string;
  readonly name: string;
  readonly programId: string;
  readonly programCode: string;
  /** The program's currency: every voucher of the group is in it. */
  readonly currency: string;
  readonly validitySeconds: number;
  readonly createdAt: Date;
}

interface VoucherGroupRow {
  id: string;
  organisation_id: string;
  code: string;
  name: string;
  program_id: string;
  program_code: string;
  currency: string;
  validity_seconds: number;
  created_at: Date;
}

const selectGroups = (db: Database) =>
  db<VoucherGroupRow>('voucher_groups as g')
    .join('programs as p', 'p.id', 'g.program_id')
    .select('g.id', 'g.organisation_id', 'g.code', 'g.name', 'g.program_id', 'p.code as program_code', 'p.currency', 'g.validity_seconds', 'g.created_at');

function groupFromRow(row: VoucherGroupRow): VoucherGroup {
  return {
    id: row.id, organisationId: row.organisation_id, code: row.code, name: row.name, programId: row.program_id, programCode: row.program_code,
    currency: row.currency.trim(), validitySeconds: row.validity_seconds, createdAt: row.created_at,
  };
}

export type NewVoucherGroup = Pick<VoucherGroup, 'id' | 'organisationId' | 'code' | 'name' | 'programId' | 'validitySeconds'>;

/** Inserts the group; answers false when the organisation already has one under this code. */
export async function insertVoucherGroup(db: Database, group: NewVoucherGroup): Promise<boolean> {
  const inserted = await db('voucher_groups')
    .insert({ id: group.id, organisation_id: group.organisationId, code: group.code, name: group.name, program_id: group.programId, validity_seconds: group.validitySeconds })
    .onConflict(['organisation_id', 'code'])
    .ignore()
    .returning('id');
  return inserted.length === 1;
}

export async function findVoucherGroup(db: Database, organisationId: string, id: string): Promise<VoucherGroup | undefined> {
  const row = await selectGroups(db).where({ 'g.organisation_id': organisationId, 'g.id': id }).first();
  return row ? groupFromRow(row) : undefined;
}

export async function listVoucherGroups(db: Database, organisationId: string): Promise<VoucherGroup[]> {
  return (await selectGroups(db).where('g.organisation_id', organisationId).orderBy('g.code')).map(groupFromRow);
}

/** The organisation's groups among these codes, by code; codes it has no group for are absent. */
export async function findVoucherGroupsByCode(db: Database, organisationId: string, codes: readonly string[]): Promise<Map<string, VoucherGroup>> {
  const rows = await selectGroups(db).where('g.organisation_id', organisationId).whereIn('g.code', [...codes]);
  return new Map(rows.map((row) => [row.code, groupFromRow(row)]));
}
