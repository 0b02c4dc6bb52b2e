import type { BatchRowStatus, RowReasonCode } from '../../domain/batch.ts';
import type { Party } from '../../domain/order.ts';
import { FINAL_STATUSES, UNPAID_STATUSES, type OrderStatus } from '../../domain/order-status.ts';
import type { Database } from '../knex.ts';

/** A row as the intake stores it: checked on its own, not yet resolved against the account mapper. */
export interface NewBatchRow {
  readonly rowNumber: number;
  readonly instructionId: string;
  readonly payeeIdentity: string | null;
  readonly payee: Party | null;
  readonly payer: Party | null;
  readonly amountMinor: bigint | null;
  readonly currency: string;
  readonly note: string | null;
  readonly status: 'pending' | 'invalid';
  readonly reasonCode: RowReasonCode | null;
  readonly reason: string | null;
}

export async function insertBatchRows(db: Database, batchId: string, rows: readonly NewBatchRow[]): Promise<void> {
  if (rows.length === 0) return;
  await db.raw(
    `INSERT INTO batch_rows (batch_id, row_number, instruction_id, payee_identity, payee, payer, amount_minor, currency, note, status, reason_code, reason)
     SELECT ?, x.* FROM jsonb_to_recordset(?::jsonb) AS x(row_number int, instruction_id text, payee_identity text, payee jsonb,
       payer jsonb, amount_minor bigint, currency text, note text, status text, reason_code text, reason text)`,
    [batchId, JSON.stringify(rows.map((row) => ({
      row_number: row.rowNumber, instruction_id: row.instructionId, payee_identity: row.payeeIdentity, payee: row.payee, payer: row.payer,
      amount_minor: row.amountMinor?.toString() ?? null, currency: row.currency, note: row.note, status: row.status,
      reason_code: row.reasonCode, reason: row.reason,
    })))],
  );
}

export interface PendingRow {
  readonly rowNumber: number;
  readonly payeeIdentity: string | null;
  readonly payee: Party | null;
  readonly payer: Party | null;
}

/** The next page of rows still to be resolved, in row order. */
export async function pendingRows(db: Database, batchId: string, afterRow: number, limit: number): Promise<PendingRow[]> {
  const rows = (await db('batch_rows')
    .select('row_number', 'payee_identity', 'payee', 'payer')
    .where({ batch_id: batchId, status: 'pending' })
    .andWhere('row_number', '>', afterRow)
    .orderBy('row_number')
    .limit(limit)) as { row_number: number; payee_identity: string | null; payee: Party | null; payer: Party | null }[];
  return rows.map((row) => ({ rowNumber: row.row_number, payeeIdentity: row.payee_identity, payee: row.payee, payer: row.payer }));
}

export type RowVerdict =
  | { readonly rowNumber: number; readonly status: 'valid'; readonly payee: Party }
  | { readonly rowNumber: number; readonly status: 'invalid'; readonly reasonCode: RowReasonCode; readonly reason: string };

/** Records what resolution found, for rows still in `from` (pending): a retried page changes nothing twice. */
export async function recordVerdicts(db: Database, batchId: string, verdicts: readonly RowVerdict[], options: { from: 'pending' | 'valid' } = { from: 'pending' }): Promise<void> {
  if (verdicts.length === 0) return;
  await db.raw(
    `UPDATE batch_rows r SET status = v.status, payee = COALESCE(v.payee, r.payee), reason_code = v.reason_code, reason = v.reason
     FROM jsonb_to_recordset(?::jsonb) AS v(row_number int, status text, payee jsonb, reason_code text, reason text)
     WHERE r.batch_id = ? AND r.row_number = v.row_number AND r.status = ?`,
    [JSON.stringify(verdicts.map((verdict) => verdict.status === 'valid'
      ? { row_number: verdict.rowNumber, status: 'valid', payee: verdict.payee, reason_code: null, reason: null }
      : { row_number: verdict.rowNumber, status: 'invalid', payee: null, reason_code: verdict.reasonCode, reason: verdict.reason })), batchId, options.from],
  );
}

/** Every repeat of an instruction id after its first row in the batch is invalid. */
export async function rejectDuplicateInstructions(db: Database, batchId: string, reason: string): Promise<void> {
  await db.raw(
    `UPDATE batch_rows r SET status = 'invalid', reason_code = 'duplicate_in_batch', reason = ? || ' (row ' || d.first_row || ')'
     FROM (
       SELECT row_number, min(row_number) OVER (PARTITION BY instruction_id) AS first_row
       FROM batch_rows WHERE batch_id = ? AND instruction_id <> ''
     ) d
     WHERE r.batch_id = ? AND r.row_number = d.row_number AND d.row_number <> d.first_row AND r.status = 'valid'`,
    [reason, batchId, batchId],
  );
}

/**
 * An instruction an earlier batch of the same program already paid, or is paying, is not paid again. One that
 * failed or was cancelled there may be paid now: that is how an agency retries its failures.
 */
export async function rejectAlreadyPaidInstructions(db: Database, batchId: string, programId: string, reason: string): Promise<void> {
  await db.raw(
    `UPDATE batch_rows r SET status = 'invalid', reason_code = 'already_paid', reason = ? || ' (order ' || p.order_id || ')'
     FROM program_payments p JOIN orders o ON o.id = p.order_id
     WHERE r.batch_id = ? AND r.status = 'valid' AND p.program_id = ? AND p.instruction_id = r.instruction_id
       AND o.status NOT IN ('failed', 'cancelled')`,
    [reason, batchId, programId],
  );
}

export interface ValidationTally {
  readonly validCount: number;
  readonly invalidCount: number;
  readonly validTotalMinor: bigint;
}

export async function tallyValidation(db: Database, batchId: string): Promise<ValidationTally> {
  const { rows } = (await db.raw(
    `SELECT count(*) FILTER (WHERE status IN ('valid', 'ordered')) AS valid_count,
            count(*) FILTER (WHERE status = 'invalid') AS invalid_count,
            COALESCE(sum(amount_minor) FILTER (WHERE status IN ('valid', 'ordered')), 0) AS valid_total
     FROM batch_rows WHERE batch_id = ?`,
    [batchId],
  )) as { rows: { valid_count: string; invalid_count: string; valid_total: string }[] };
  const [tally] = rows;
  return { validCount: Number(tally!.valid_count), invalidCount: Number(tally!.invalid_count), validTotalMinor: BigInt(tally!.valid_total) };
}

export interface ValidRow {
  readonly rowNumber: number;
  readonly instructionId: string;
  readonly payee: Party;
  readonly payer: Party | null;
  readonly amountMinor: bigint;
  readonly currency: string;
  readonly note: string | null;
}

export interface RowsToPay {
  readonly valid: readonly ValidRow[];
  /** Orders an earlier run of the range made of its rows: a run cut short may have left some of them unsent. */
  readonly orderedEarlier: readonly string[];
}

/**
 * The rows of a range still to turn into orders, and the orders already made of the others, locked so that a
 * cancel and an execution cannot both take them.
 */
export async function lockRowsToPay(db: Database, batchId: string, fromRow: number, toRow: number): Promise<RowsToPay> {
  const rows = (await db('batch_rows')
    .select('row_number', 'instruction_id', 'payee', 'payer', 'amount_minor', 'currency', 'note', 'status', 'order_id')
    .where({ batch_id: batchId })
    .whereIn('status', ['valid', 'ordered'])
    .whereBetween('row_number', [fromRow, toRow])
    .orderBy('row_number')
    .forUpdate()) as {
    row_number: number; instruction_id: string; payee: Party; payer: Party | null; amount_minor: string; currency: string; note: string | null;
    status: 'valid' | 'ordered'; order_id: string | null;
  }[];
  return {
    valid: rows.filter((row) => row.status === 'valid').map((row) => ({
      rowNumber: row.row_number, instructionId: row.instruction_id, payee: row.payee, payer: row.payer,
      amountMinor: BigInt(row.amount_minor), currency: row.currency, note: row.note,
    })),
    orderedEarlier: rows.flatMap((row) => (row.status === 'ordered' && row.order_id ? [row.order_id] : [])),
  };
}

export interface RowOrder {
  readonly rowNumber: number;
  readonly orderId: string;
  readonly rail: string;
  readonly payer: Party;
  readonly reference: string;
}

export interface OrderedRows {
  /** The orders written, one per row still valid whose instruction the program had not paid. */
  readonly orderIds: readonly string[];
  /** Rows whose instruction another batch of the program claimed meanwhile: not paid, and their amount. */
  readonly turnedAway: number;
  readonly turnedAwayMinor: bigint;
}

/**
 * Turns rows into orders, inside the caller's transaction: each instruction is first claimed for the program (a
 * row another batch claimed meanwhile is turned away as already paid), then each order is written with its first
 * event and each row points at its order. Rows no longer valid (cancelled meanwhile) get no order.
 *
 * The claim is a statement of its own: joining what one part of a statement wrote to what another part read
 * leaves the planner guessing one row on each side, and the nested loop it then picks costs a second per chunk.
 */
export async function orderRows(db: Database, batchId: string, orders: readonly RowOrder[], alreadyPaidReason: string): Promise<OrderedRows> {
  if (orders.length === 0) return { orderIds: [], turnedAway: 0, turnedAwayMinor: 0n };
  const { rows: claims } = (await db.raw(
    `WITH v AS (
       SELECT * FROM jsonb_to_recordset(?::jsonb) AS x(row_number int, order_id uuid)
     )
     INSERT INTO program_payments (program_id, instruction_id, order_id)
     SELECT b.program_id, br.instruction_id, v.order_id
     FROM v JOIN batch_rows br ON br.batch_id = ? AND br.row_number = v.row_number AND br.status = 'valid'
     CROSS JOIN (SELECT program_id FROM batches WHERE id = ?) b
     ON CONFLICT (program_id, instruction_id) DO UPDATE SET order_id = EXCLUDED.order_id
       WHERE EXISTS (SELECT 1 FROM orders o WHERE o.id = program_payments.order_id AND o.status IN ('failed', 'cancelled'))
     RETURNING order_id`,
    [JSON.stringify(orders.map((order) => ({ row_number: order.rowNumber, order_id: order.orderId }))), batchId, batchId],
  )) as { rows: { order_id: string }[] };
  const claimed = new Set(claims.map((claim) => claim.order_id));
  const orderIds = await writeOrders(db, batchId, orders.filter((order) => claimed.has(order.orderId)));
  const turnedAway = await turnAway(db, batchId, orders.filter((order) => !claimed.has(order.orderId)), alreadyPaidReason);
  return { orderIds, ...turnedAway };
}

async function writeOrders(db: Database, batchId: string, orders: readonly RowOrder[]): Promise<string[]> {
  if (orders.length === 0) return [];
  const { rows } = (await db.raw(
    `WITH v AS (
       SELECT * FROM jsonb_to_recordset(?::jsonb) AS x(row_number int, order_id uuid, rail text, payer jsonb, reference text)
     ), b AS (
       SELECT id, organisation_id, program_id FROM batches WHERE id = ?
     ), r AS (
       UPDATE batch_rows br SET status = 'ordered', order_id = v.order_id
       FROM v WHERE br.batch_id = ? AND br.row_number = v.row_number AND br.status = 'valid'
       RETURNING br.row_number, br.instruction_id, br.payee, br.amount_minor, br.currency, br.note, v.order_id, v.rail, v.payer, v.reference
     ), o AS (
       INSERT INTO orders (id, organisation_id, kind, status, amount_minor, currency, payer, payee, reference, metadata, rail, rail_key, batch_id, program_id)
       SELECT r.order_id, b.organisation_id, 'benefit', 'received', r.amount_minor, r.currency, r.payer, r.payee, r.reference,
              jsonb_strip_nulls(jsonb_build_object('batch_id', b.id, 'program_id', b.program_id, 'instruction_id', r.instruction_id, 'row', r.row_number, 'note', r.note)),
              r.rail, replace(r.order_id::text, '-', ''), b.id, b.program_id
       FROM r CROSS JOIN b
       RETURNING id, amount_minor
     ), e AS (
       INSERT INTO order_events (order_id, from_status, to_status, detail)
       SELECT id, NULL, 'received', jsonb_build_object('batch_id', ?::uuid) FROM o
     ), t AS (
       INSERT INTO batch_order_tallies (batch_id, status, orders, amount_minor)
       SELECT ?::uuid, 'received', count(*), sum(amount_minor) FROM o HAVING count(*) > 0
     )
     SELECT id FROM o`,
    [JSON.stringify(orders.map((order) => ({ row_number: order.rowNumber, order_id: order.orderId, rail: order.rail, payer: order.payer, reference: order.reference }))),
      batchId, batchId, batchId, batchId],
  )) as { rows: { id: string }[] };
  return rows.map((row) => row.id);
}

async function turnAway(db: Database, batchId: string, orders: readonly RowOrder[], reason: string): Promise<{ turnedAway: number; turnedAwayMinor: bigint }> {
  if (orders.length === 0) return { turnedAway: 0, turnedAwayMinor: 0n };
  const { rows } = (await db.raw(
    `UPDATE batch_rows br SET status = 'invalid', reason_code = 'already_paid', reason = ?
     FROM jsonb_to_recordset(?::jsonb) AS v(row_number int)
     WHERE br.batch_id = ? AND br.row_number = v.row_number AND br.status = 'valid'
     RETURNING br.amount_minor`,
    [reason, JSON.stringify(orders.map((order) => ({ row_number: order.rowNumber }))), batchId],
  )) as { rows: { amount_minor: string }[] };
  return { turnedAway: rows.length, turnedAwayMinor: rows.reduce((sum, row) => sum + BigInt(row.amount_minor), 0n) };
}

export interface UnsentOrder {
  readonly id: string;
  readonly rail: string;
  /** The payee's institution: payments to one institution travel together. */
  readonly institution: string | null;
}

/** Those of the given orders that no rail has been asked about yet. */
export async function unsentOrders(db: Database, orderIds: readonly string[]): Promise<UnsentOrder[]> {
  if (orderIds.length === 0) return [];
  return (await db('orders')
    .select('id', 'rail', db.raw(`payee->>'institution' AS institution`))
    .whereRaw('id = ANY(?::uuid[])', [[...orderIds]])
    .whereIn('status', ['received', 'queued'])) as UnsentOrder[];
}

/** Rows not yet turned into orders are dropped from the batch; answers their total. */
export async function cancelValidRows(db: Database, batchId: string, reason: string): Promise<bigint> {
  const { rows } = (await db.raw(
    `WITH c AS (
       UPDATE batch_rows SET status = 'cancelled', reason_code = 'batch_cancelled', reason = ?
       WHERE batch_id = ? AND status IN ('pending', 'valid') RETURNING amount_minor
     ) SELECT COALESCE(sum(amount_minor), 0) AS total FROM c`,
    [reason, batchId],
  )) as { rows: { total: string }[] };
  return BigInt(rows[0]!.total);
}

export interface BatchRowView {
  readonly rowNumber: number;
  readonly instructionId: string;
  readonly payeeIdentity: string | null;
  readonly payee: Party | null;
  readonly amountMinor: bigint | null;
  readonly currency: string;
  readonly note: string | null;
  readonly rowStatus: BatchRowStatus;
  readonly reasonCode: string | null;
  readonly reason: string | null;
  readonly order: null | {
    readonly id: string;
    readonly status: OrderStatus;
    readonly rail: string;
    readonly railReference: string | null;
    readonly failureCode: string | null;
    readonly failureReason: string | null;
    readonly createdAt: Date;
    readonly updatedAt: Date;
  };
}

/** What a row became, as the detail view and the failures file report it. */
export type RowOutcomeFilter = 'invalid' | 'failed' | 'completed' | 'in_progress' | 'cancelled' | 'unpaid';

/** Rows after `afterRow`, in row order; `offset` skips that many more (for APIs that page by page number under a filter). */
export async function listBatchRows(db: Database, batchId: string, filter: { outcome?: RowOutcomeFilter; afterRow: number; limit: number; offset?: number }): Promise<BatchRowView[]> {
  const query = db('batch_rows as r')
    .leftJoin('orders as o', 'o.id', 'r.order_id')
    .select('r.row_number', 'r.instruction_id', 'r.payee_identity', 'r.payee', 'r.amount_minor', 'r.currency', 'r.note', 'r.status as row_status',
      'r.reason_code', 'r.reason', 'o.id as order_id', 'o.status as order_status', 'o.rail', 'o.rail_reference', 'o.failure_code', 'o.failure_reason',
      'o.created_at as order_created_at', 'o.updated_at as order_updated_at')
    .where('r.batch_id', batchId)
    .andWhere('r.row_number', '>', filter.afterRow)
    .orderBy('r.row_number')
    .limit(filter.limit);
  if (filter.offset) query.offset(filter.offset);
  switch (filter.outcome) {
    case 'invalid': query.where('r.status', 'invalid'); break;
    case 'cancelled': query.where((q) => q.where('r.status', 'cancelled').orWhere('o.status', 'cancelled')); break;
    case 'failed': query.where('o.status', 'failed'); break;
    case 'completed': query.where('o.status', 'completed'); break;
    case 'in_progress': query.where((q) => q.whereIn('r.status', ['pending', 'valid']).orWhereNotIn('o.status', [...FINAL_STATUSES])); break;
    // A payment the beneficiary's bank returned was not, in the end, paid.
    case 'unpaid': query.where((q) => q.whereIn('r.status', ['invalid', 'cancelled']).orWhereIn('o.status', [...UNPAID_STATUSES])); break;
    case undefined: break;
  }
  const rows = (await query) as {
    row_number: number; instruction_id: string; payee_identity: string | null; payee: Party | null; amount_minor: string | null; currency: string;
    note: string | null; row_status: BatchRowStatus; reason_code: string | null; reason: string | null; order_id: string | null; order_status: OrderStatus | null;
    rail: string | null; rail_reference: string | null; failure_code: string | null; failure_reason: string | null; order_created_at: Date | null; order_updated_at: Date | null;
  }[];
  return rows.map((row) => ({
    rowNumber: row.row_number, instructionId: row.instruction_id, payeeIdentity: row.payee_identity, payee: row.payee,
    amountMinor: row.amount_minor === null ? null : BigInt(row.amount_minor), currency: row.currency, note: row.note, rowStatus: row.row_status,
    reasonCode: row.reason_code, reason: row.reason,
    order: row.order_id === null ? null : {
      id: row.order_id, status: row.order_status!, rail: row.rail!, railReference: row.rail_reference, failureCode: row.failure_code,
      failureReason: row.failure_reason, createdAt: row.order_created_at!, updatedAt: row.order_updated_at!,
    },
  }));
}

export interface OutcomeTotals {
  readonly count: number;
  readonly amountMinor: bigint;
}

/**
 * Counts and amounts of the batch's orders per status: the sum of the deltas every order's creation and status
 * change wrote, a few thousand rows for a million payments, so measuring a running batch costs next to nothing.
 */
export async function tallyBatchOrders(db: Database, batchId: string): Promise<Map<OrderStatus, OutcomeTotals>> {
  const { rows } = (await db.raw(
    `SELECT status, sum(orders) AS count, sum(amount_minor) AS amount FROM batch_order_tallies WHERE batch_id = ? GROUP BY status HAVING sum(orders) <> 0`,
    [batchId],
  )) as { rows: { status: OrderStatus; count: string; amount: string }[] };
  return new Map(rows.map((row) => [row.status, { count: Number(row.count), amountMinor: BigInt(row.amount) }]));
}

/** Rows dropped by a cancel before they became orders. */
export async function tallyCancelledRows(db: Database, batchId: string): Promise<OutcomeTotals> {
  const { rows } = (await db.raw(
    `SELECT count(*) AS count, COALESCE(sum(amount_minor), 0) AS amount FROM batch_rows WHERE batch_id = ? AND status = 'cancelled'`,
    [batchId],
  )) as { rows: { count: string; amount: string }[] };
  return { count: Number(rows[0]!.count), amountMinor: BigInt(rows[0]!.amount) };
}

/**
 * Fresh statistics after a large intake: without them the planner takes a table that just grew by a million
 * rows for an empty one and joins the row updates against it by scanning it once per row.
 */
export async function analyzeBatchRows(db: Database): Promise<void> {
  await db.raw('ANALYZE batch_rows');
}
