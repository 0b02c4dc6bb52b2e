import type { BatchApi, BatchStatus } from '../../domain/batch.ts';
import type { Database } from '../knex.ts';

export interface Batch {
  readonly id: string;
  readonly organisationId: string;
  readonly programId: string;
  readonly api: BatchApi;
  readonly correlationId: string;
  readonly requestHash: string;
  readonly reference: string | null;
  readonly registeringInstitution: string;
  readonly callbackUrl: string | null;
  /** Checked and reported, never paid: GovStack's pre-payment validation. */
  readonly validateOnly: boolean;
  readonly status: BatchStatus;
  readonly currency: string;
  readonly declaredCount: number | null;
  readonly declaredTotals: Record<string, string> | null;
  readonly rowCount: number;
  readonly validCount: number;
  readonly invalidCount: number;
  readonly validTotalMinor: bigint;
  readonly reservedMinor: bigint;
  readonly disbursedMinor: bigint;
  readonly milestone: number;
  /** Every row has been turned into a payment, or dropped: the budget can be settled. */
  readonly fullyOrdered: boolean;
  readonly progress: Record<string, unknown>;
  readonly executeAt: Date | null;
  readonly createdBy: string | null;
  readonly approvedBy: string | null;
  readonly approvedAt: Date | null;
  readonly cancelRequestedAt: Date | null;
  readonly rejectionCode: string | null;
  readonly rejectionReason: string | null;
  readonly createdAt: Date;
  readonly updatedAt: Date;
  readonly completedAt: Date | null;
}

interface BatchRow {
  id: string;
  organisation_id: string;
  program_id: string;
  api: BatchApi;
  correlation_id: string;
  request_hash: string;
  reference: string | null;
  registering_institution: string;
  callback_url: string | null;
  validate_only: boolean;
  status: BatchStatus;
  currency: string;
  declared_count: number | null;
  declared_totals: Record<string, string> | null;
  row_count: number;
  valid_count: number;
  invalid_count: number;
  valid_total_minor: string;
  reserved_minor: string;
  disbursed_minor: string;
  milestone: number;
  ordered_through: number;
  progress: Record<string, unknown>;
  execute_at: Date | null;
  created_by: string | null;
  approved_by: string | null;
  approved_at: Date | null;
  cancel_requested_at: Date | null;
  rejection_code: string | null;
  rejection_reason: string | null;
  created_at: Date;
  updated_at: Date;
  completed_at: Date | null;
}

function batchFromRow(row: BatchRow): Batch {
  return {
    id: row.id,
    organisationId: row.organisation_id,
    programId: row.program_id,
    api: row.api,
    correlationId: row.correlation_id,
    requestHash: row.request_hash,
    reference: row.reference,
    registeringInstitution: row.registering_institution,
    callbackUrl: row.callback_url,
    validateOnly: row.validate_only,
    status: row.status,
    currency: row.currency.trim(),
    declaredCount: row.declared_count,
    declaredTotals: row.declared_totals,
    rowCount: row.row_count,
    validCount: row.valid_count,
    invalidCount: row.invalid_count,
    validTotalMinor: BigInt(row.valid_total_minor),
    reservedMinor: BigInt(row.reserved_minor),
    disbursedMinor: BigInt(row.disbursed_minor),
    milestone: row.milestone,
    fullyOrdered: row.ordered_through >= row.row_count && row.row_count > 0,
    progress: row.progress,
    executeAt: row.execute_at,
    createdBy: row.created_by,
    approvedBy: row.approved_by,
    approvedAt: row.approved_at,
    cancelRequestedAt: row.cancel_requested_at,
    rejectionCode: row.rejection_code,
    rejectionReason: row.rejection_reason,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    completedAt: row.completed_at,
  };
}

export type NewBatch = Pick<Batch, 'id' | 'organisationId' | 'programId' | 'api' | 'correlationId' | 'reference' | 'registeringInstitution'
  | 'callbackUrl' | 'validateOnly' | 'currency' | 'declaredCount' | 'declaredTotals' | 'executeAt' | 'createdBy'>;

/**
 * Inserts the envelope in status `validating`. Inside the intake's transaction a concurrent intake under the
 * same correlation id waits here, then fails on the unique key once the first commits.
 */
export async function insertBatch(db: Database, batch: NewBatch): Promise<void> {
  await db('batches').insert({
    id: batch.id,
    organisation_id: batch.organisationId,
    program_id: batch.programId,
    api: batch.api,
    correlation_id: batch.correlationId,
    request_hash: '',
    reference: batch.reference,
    registering_institution: batch.registeringInstitution,
    callback_url: batch.callbackUrl,
    validate_only: batch.validateOnly,
    status: 'validating',
    currency: batch.currency,
    declared_count: batch.declaredCount,
    declared_totals: batch.declaredTotals === null ? null : JSON.stringify(batch.declaredTotals),
    execute_at: batch.executeAt,
    created_by: batch.createdBy,
  });
}

export async function sealBatch(db: Database, id: string, rowCount: number, requestHash: string): Promise<void> {
  await db('batches').where({ id }).update({ row_count: rowCount, request_hash: requestHash, updated_at: db.raw('clock_timestamp()') });
}

export async function findBatch(db: Database, organisationId: string, id: string): Promise<Batch | undefined> {
  const row = await db<BatchRow>('batches').where({ organisation_id: organisationId, id }).first();
  return row ? batchFromRow(row) : undefined;
}

/** For workers, which act on a batch whoever owns it. */
export async function loadBatch(db: Database, id: string, options: { forUpdate?: boolean } = {}): Promise<Batch | undefined> {
  const query = db<BatchRow>('batches').where({ id });
  if (options.forUpdate) query.forUpdate();
  const row = await query.first();
  return row ? batchFromRow(row) : undefined;
}

export async function findBatchByCorrelation(db: Database, organisationId: string, api: BatchApi, correlationId: string): Promise<Batch | undefined> {
  const row = await db<BatchRow>('batches').where({ organisation_id: organisationId, api, correlation_id: correlationId }).first();
  return row ? batchFromRow(row) : undefined;
}

export interface BatchListFilter {
  readonly organisationId: string;
  readonly status?: BatchStatus;
  readonly after?: { createdAt: Date; id: string };
  readonly limit: number;
}

export async function listBatches(db: Database, filter: BatchListFilter): Promise<Batch[]> {
  const query = db<BatchRow>('batches')
    .where('organisation_id', filter.organisationId)
    .orderBy([{ column: 'created_at', order: 'desc' }, { column: 'id', order: 'desc' }])
    .limit(filter.limit);
  if (filter.status) query.where('status', filter.status);
  if (filter.after) query.whereRaw('(created_at, id) < (?, ?)', [filter.after.createdAt, filter.after.id]);
  return (await query).map(batchFromRow);
}

type BatchChanges = Partial<{
  status: BatchStatus;
  validCount: number;
  invalidCount: number;
  validTotalMinor: bigint;
  reservedMinor: bigint;
  disbursedMinor: bigint;
  milestone: number;
  approvedBy: string;
  approvedAt: Date;
  cancelRequestedAt: Date;
  rejectionCode: string;
  rejectionReason: string;
  completedAt: Date;
  progress: Record<string, unknown>;
  fullyOrdered: true;
}>;

/**
 * A guarded change: it happens only while the batch is in one of `from`, so two workers (or a worker and a
 * cancel) cannot both move it. Answers whether it happened.
 */
export async function updateBatch(db: Database, id: string, from: readonly BatchStatus[], changes: BatchChanges): Promise<boolean> {
  const columns: Record<string, unknown> = { updated_at: db.fn.now() };
  const names: Record<keyof BatchChanges, string> = {
    status: 'status', validCount: 'valid_count', invalidCount: 'invalid_count', validTotalMinor: 'valid_total_minor',
    reservedMinor: 'reserved_minor', disbursedMinor: 'disbursed_minor', milestone: 'milestone', approvedBy: 'approved_by',
    approvedAt: 'approved_at', cancelRequestedAt: 'cancel_requested_at', rejectionCode: 'rejection_code',
    rejectionReason: 'rejection_reason', completedAt: 'completed_at', progress: 'progress',
    fullyOrdered: 'ordered_through',
  };
  for (const [key, value] of Object.entries(changes) as [keyof BatchChanges, unknown][]) {
    if (value === undefined) continue;
    if (key === 'fullyOrdered') {
      columns.ordered_through = db.ref('row_count');
      continue;
    }
    columns[names[key]] = typeof value === 'bigint' ? value.toString() : key === 'progress' ? JSON.stringify(value) : value;
  }
  const count = await db('batches').where({ id }).whereIn('status', [...from]).update(columns);
  return count === 1;
}

/** Batches a worker must still move on, oldest first: the monitor's list. */
export async function findUnfinishedBatches(db: Database, limit: number): Promise<Batch[]> {
  const rows = await db<BatchRow>('batches').whereIn('status', ['validating', 'scheduled', 'processing']).orderBy('updated_at').limit(limit);
  return rows.map(batchFromRow);
}

/** Rows found unpayable after validation leave the valid count and total. */
export async function adjustValidation(db: Database, id: string, rowsDropped: number, amountDroppedMinor: bigint): Promise<void> {
  await db('batches').where({ id }).update({
    valid_count: db.raw('valid_count - ?', [rowsDropped]),
    invalid_count: db.raw('invalid_count + ?', [rowsDropped]),
    valid_total_minor: db.raw('valid_total_minor - ?', [amountDroppedMinor.toString()]),
    updated_at: db.fn.now(),
  });
}

/** Says the batch is being worked on, so the monitor does not take a long validation for a lost one. */
export async function touchBatch(db: Database, id: string): Promise<void> {
  await db('batches').where({ id }).update({ updated_at: db.raw('clock_timestamp()') });
}
