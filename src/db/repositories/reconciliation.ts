import { CONFIRMABLE_STATUSES, CONTRADICTED_STATUSES, SEVERITY_OF, type ExceptionStatus, type ExceptionType, type Severity } from '../../domain/reconciliation.ts';
import type { Knex } from 'knex';
import type { Database } from '../knex.ts';

/**
 * Reconciliation, set-based: every step is one statement over all the lines of a statement (joins on indexed
 * keys), never a query per line. The steps run in one transaction (the caller's): the outcome of each line
 * is classified into a temporary table, from which the exceptions are recorded (each exactly once, by its
 * dedupe key) and the order changes are read.
 */

// ---- runs ----

export type RunTrigger = 'import' | 'pull' | 'schedule' | 'rerun';

export interface ReconciliationRun {
  readonly id: string;
  readonly statementId: string | null;
  readonly source: string;
  readonly periodFrom: string | null;
  readonly periodTo: string | null;
  readonly trigger: RunTrigger;
  readonly status: 'running' | 'completed' | 'failed';
  readonly lines: number;
  readonly matched: number;
  readonly unmatched: number;
  readonly exceptions: number;
  readonly exceptionsByType: Readonly<Partial<Record<ExceptionType, number>>>;
  readonly confirmed: number;
  readonly returned: number;
  readonly autoResolved: number;
  readonly startedBy: string;
  readonly startedByClient: string | null;
  readonly startedAt: Date;
  readonly finishedAt: Date | null;
  readonly error: string | null;
}

interface RunRow {
  id: string;
  statement_id: string | null;
  source: string;
  period_from: string | null;
  period_to: string | null;
  trigger: RunTrigger;
  status: ReconciliationRun['status'];
  lines: number;
  matched: number;
  unmatched: number;
  exceptions: number;
  exceptions_by_type: Partial<Record<ExceptionType, number>>;
  confirmed: number;
  returned: number;
  auto_resolved: number;
  started_by: string;
  started_by_client: string | null;
  started_at: Date;
  finished_at: Date | null;
  error: string | null;
}

const RUN_COLUMNS = `id, statement_id, source, period_from::text AS period_from, period_to::text AS period_to, trigger, status, lines, matched, unmatched,
  exceptions, exceptions_by_type, confirmed, returned, auto_resolved, started_by, started_by_client, started_at, finished_at, error`;

function runFromRow(row: RunRow): ReconciliationRun {
  return {
    id: row.id, statementId: row.statement_id, source: row.source, periodFrom: row.period_from, periodTo: row.period_to, trigger: row.trigger,
    status: row.status, lines: row.lines, matched: row.matched, unmatched: row.unmatched, exceptions: row.exceptions, exceptionsByType: row.exceptions_by_type,
    confirmed: row.confirmed, returned: row.returned, autoResolved: row.auto_resolved, startedBy: row.started_by, startedByClient: row.started_by_client,
    startedAt: row.started_at, finishedAt: row.finished_at, error: row.error,
  };
}

export interface NewRun {
  readonly id: string;
  readonly statementId: string | null;
  readonly source: string;
  readonly periodFrom: string | null;
  readonly periodTo: string | null;
  readonly trigger: RunTrigger;
  readonly startedBy: string;
  readonly startedByClient: string | null;
}

export async function insertRun(db: Database, run: NewRun): Promise<void> {
  await db('reconciliation_runs').insert({
    id: run.id, statement_id: run.statementId, source: run.source, period_from: run.periodFrom, period_to: run.periodTo, trigger: run.trigger,
    status: 'running', started_by: run.startedBy, started_by_client: run.startedByClient,
  });
}

export interface RunResult {
  readonly lines: number;
  readonly matched: number;
  readonly unmatched: number;
  readonly exceptionsByType: Readonly<Partial<Record<ExceptionType, number>>>;
  readonly confirmed: number;
  readonly returned: number;
  readonly autoResolved: number;
}

export async function completeRun(db: Database, runId: string, result: RunResult): Promise<ReconciliationRun> {
  const exceptions = Object.values(result.exceptionsByType).reduce((sum, count) => sum + (count ?? 0), 0);
  const { rows } = (await db.raw(
    `UPDATE reconciliation_runs SET status = 'completed', finished_at = clock_timestamp(), lines = ?, matched = ?, unmatched = ?, exceptions = ?,
       exceptions_by_type = ?::jsonb, confirmed = ?, returned = ?, auto_resolved = ?
     WHERE id = ? RETURNING ${RUN_COLUMNS}`,
    [result.lines, result.matched, result.unmatched, exceptions, JSON.stringify(result.exceptionsByType), result.confirmed, result.returned, result.autoResolved, runId],
  )) as { rows: RunRow[] };
  return runFromRow(rows[0]!);
}

export async function failRun(db: Database, runId: string, error: string): Promise<void> {
  await db('reconciliation_runs').where({ id: runId, status: 'running' }).update({ status: 'failed', finished_at: db.raw('clock_timestamp()'), error: error.slice(0, 2000) });
}

export async function findRun(db: Database, id: string): Promise<ReconciliationRun | undefined> {
  const { rows } = (await db.raw(`SELECT ${RUN_COLUMNS} FROM reconciliation_runs WHERE id = ?`, [id])) as { rows: RunRow[] };
  return rows[0] ? runFromRow(rows[0]) : undefined;
}

export async function listRuns(db: Database, filter: { source?: string; statementId?: string; after?: { createdAt: Date; id: string }; limit: number }): Promise<ReconciliationRun[]> {
  const conditions = ['true'];
  const bindings: Knex.Value[] = [];
  if (filter.source) {
    conditions.push('source = ?');
    bindings.push(filter.source);
  }
  if (filter.statementId) {
    conditions.push('statement_id = ?');
    bindings.push(filter.statementId);
  }
  if (filter.after) {
    conditions.push('(started_at, id) < (?, ?)');
    bindings.push(filter.after.createdAt, filter.after.id);
  }
  const { rows } = (await db.raw(`SELECT ${RUN_COLUMNS} FROM reconciliation_runs WHERE ${conditions.join(' AND ')} ORDER BY started_at DESC, id DESC LIMIT ?`, [...bindings, filter.limit])) as { rows: RunRow[] };
  return rows.map(runFromRow);
}

// ---- matching ----

/**
 * One reconciliation at a time per source, across every Kassa process; released when the caller's transaction
 * ends. The transaction's joins hash a whole statement against the orders: they get the memory to do it in
 * one pass rather than spilling to disk.
 */
export async function lockSource(db: Database, source: string): Promise<void> {
  await db.raw('SELECT pg_advisory_xact_lock(hashtext(?))', [`kassa:reconcile:${source}`]);
  await db.raw(`SET LOCAL work_mem = '128MB'`);
}

/**
 * Fresh statistics for the statement tables: a statement of a million lines imported a moment ago is not yet
 * known to the planner (autovacuum comes later), which would otherwise join it line by line. A sample, not a scan.
 */
export async function analyseStatementTables(db: Database): Promise<void> {
  await db.raw('ANALYZE statement_lines, statement_line_payments');
}

/** Lines a reference cannot link: single lines without one (and no match yet), and bulk lines that list no payments. */
export async function unlinkedLineCounts(db: Database, statementId: string): Promise<{ single: number; bulk: number }> {
  const { rows } = (await db.raw(
    `SELECT count(*) FILTER (WHERE l.batch_count IS NULL)::int AS single,
            count(*) FILTER (WHERE l.batch_count IS NOT NULL AND NOT EXISTS (
              SELECT 1 FROM statement_line_payments p WHERE p.statement_id = l.statement_id AND p.line_number = l.line_number))::int AS bulk
     FROM statement_lines l WHERE l.statement_id = ? AND l.rail_key IS NULL AND l.order_id IS NULL`,
    [statementId],
  )) as { rows: { single: number; bulk: number }[] };
  return rows[0]!;
}

/** Payments of bulk lines whose end-to-end reference names an order created after the import: linked now. */
export async function linkLateArrivals(db: Database, statementId: string): Promise<void> {
  await db.raw(
    `UPDATE statement_line_payments p SET order_id = o.id
     FROM orders o
     WHERE p.statement_id = ? AND p.order_id IS NULL AND p.rail_key IS NOT NULL AND o.rail_key = p.rail_key`,
    [statementId],
  );
}

/** Orders no statement line shows yet: by reference, by a match without one, or in a bulk line. */
const NOT_YET_LINKED = `NOT EXISTS (SELECT 1 FROM statement_lines x WHERE x.rail_key = o.rail_key)
  AND NOT EXISTS (SELECT 1 FROM statement_line_payments y WHERE y.rail_key = o.rail_key AND y.order_id IS NOT NULL)
  AND NOT EXISTS (SELECT 1 FROM statement_lines x WHERE x.order_id = o.id)`;

const normalised = (sql: string) => `upper(regexp_replace(${sql}, '\\s', '', 'g'))`;

/**
 * Lines without an end-to-end reference: matched to an order of the rail with the same amount and currency,
 * created within `windowDays` of the line's value date, whose counterparty (payee of a benefit, payer of a
 * fee) is the line's counterparty account or name; only where exactly one order fits the line and the order
 * fits no other line.
 */
export async function linkByAmountDateCounterparty(db: Database, statementId: string, rail: string, windowDays: number): Promise<number> {
  const { rows } = (await db.raw(
    `WITH open_lines AS (
       SELECT l.line_number, l.amount_minor, l.currency, l.value_date, l.reversal,
              ${normalised('l.counterparty')} AS counterparty, ${normalised('l.counterparty_account')} AS account
       FROM statement_lines l
       WHERE l.statement_id = ? AND l.order_id IS NULL AND l.rail_key IS NULL AND l.batch_count IS NULL
         AND (l.counterparty IS NOT NULL OR l.counterparty_account IS NOT NULL)
     ), candidates AS (
       SELECT l.line_number, o.id AS order_id
       FROM open_lines l
       JOIN orders o ON o.rail = ? AND o.amount_minor = l.amount_minor AND o.currency = l.currency
         AND (o.created_at AT TIME ZONE 'UTC')::date BETWEEN l.value_date - ?::int AND l.value_date + ?::int
         AND ${normalised(`(CASE WHEN o.kind = 'benefit' THEN o.payee ELSE o.payer END)->>'value'`)} IN (l.account, l.counterparty)
       WHERE ${NOT_YET_LINKED}
     ), one_order AS (
       SELECT line_number, (array_agg(order_id))[1] AS order_id FROM candidates GROUP BY line_number HAVING count(*) = 1
     ), one_line AS (
       SELECT * FROM one_order WHERE order_id IN (SELECT order_id FROM candidates GROUP BY order_id HAVING count(*) = 1)
     )
     UPDATE statement_lines l SET order_id = m.order_id, match_method = 'amount_date_counterparty'
     FROM one_line m WHERE l.statement_id = ? AND l.line_number = m.line_number
     RETURNING l.line_number`,
    [statementId, rail, windowDays, windowDays, statementId],
  )) as { rows: unknown[] };
  return rows.length;
}

/**
 * Bulk lines that do not list their payments, listed again by this statement (the same booking, by its
 * reference and amount, in an earlier statement of the source): they cover the payments they covered there.
 */
export async function linkBulkSeenBefore(db: Database, statementId: string, source: string): Promise<number> {
  const { rows } = (await db.raw(
    `WITH bulk AS (
       SELECT l.line_number, l.rail_reference, l.amount_minor, l.direction, l.reversal
       FROM statement_lines l
       WHERE l.statement_id = :S AND l.batch_count IS NOT NULL
         AND NOT EXISTS (SELECT 1 FROM statement_line_payments p WHERE p.statement_id = l.statement_id AND p.line_number = l.line_number)
     ), earlier AS (
       SELECT DISTINCT ON (b.line_number) b.line_number, e.statement_id, e.line_number AS earlier_line
       FROM bulk b
       JOIN statement_lines e ON e.rail_reference = b.rail_reference AND e.batch_count IS NOT NULL AND e.statement_id <> :S
         AND e.amount_minor = b.amount_minor AND e.direction = b.direction AND e.reversal = b.reversal
       JOIN statements es ON es.id = e.statement_id AND es.source = :source
       WHERE EXISTS (SELECT 1 FROM statement_line_payments p WHERE p.statement_id = e.statement_id AND p.line_number = e.line_number)
       ORDER BY b.line_number, es.seq
     )
     INSERT INTO statement_line_payments (statement_id, line_number, position, rail_key, rail_reference, order_id, match_method)
     SELECT :S::uuid, x.line_number, p.position, p.rail_key, p.rail_reference, p.order_id, p.match_method
     FROM earlier x JOIN statement_line_payments p ON p.statement_id = x.statement_id AND p.line_number = x.earlier_line
     RETURNING line_number`,
    { S: statementId, source },
  )) as { rows: { line_number: number }[] };
  return new Set(rows.map((row) => row.line_number)).size;
}

/**
 * Bulk lines that do not list their payments (MT940 /NBTX/): matched by count and total to the payments of
 * the rail that completed together (one chunk's answer completes its payments in one statement, so they share
 * the completion event's time) within `windowDays` of the value date. Lines alike in count and total are paired
 * with the groups alike in them in order (a bank books bulk lines in the order their messages reached it), and
 * only when there are as many groups as lines: otherwise which payments a line covers is a guess, left unmatched.
 */
export async function linkBulkByTotal(db: Database, statementId: string, rail: string, windowDays: number): Promise<number> {
  const { rows } = (await db.raw(
    `WITH bulk AS (
       SELECT l.line_number, l.amount_minor, l.currency, l.batch_count, l.value_date
       FROM statement_lines l
       WHERE l.statement_id = ? AND l.batch_count IS NOT NULL AND NOT l.reversal
         AND NOT EXISTS (SELECT 1 FROM statement_line_payments p WHERE p.statement_id = l.statement_id AND p.line_number = l.line_number)
     ), window_of AS (
       SELECT (min(value_date) - ?::int)::timestamp AT TIME ZONE 'UTC' AS start, (max(value_date) + ?::int + 1)::timestamp AT TIME ZONE 'UTC' AS finish FROM bulk
     ), groups AS (
       SELECT e.created_at AS completed_at, o.currency, count(*) AS payments, sum(o.amount_minor) AS total,
              array_agg(o.id ORDER BY o.rail_key) AS order_ids, array_agg(o.rail_key ORDER BY o.rail_key) AS rail_keys
       FROM orders o
       JOIN order_events e ON e.order_id = o.id AND e.to_status = 'completed'
       CROSS JOIN window_of w
       WHERE o.rail = ? AND o.status = 'completed' AND o.updated_at >= w.start AND o.updated_at < w.finish AND ${NOT_YET_LINKED}
       GROUP BY e.created_at, o.currency
     ), ranked_lines AS (
       SELECT b.*, row_number() OVER same AS k, count(*) OVER same AS n
       FROM bulk b WINDOW same AS (PARTITION BY currency, batch_count, amount_minor ORDER BY line_number)
     ), ranked_groups AS (
       SELECT g.*, row_number() OVER same AS k, count(*) OVER same AS n
       FROM groups g WINDOW same AS (PARTITION BY currency, payments, total ORDER BY completed_at)
     ), fits AS (
       SELECT l.line_number, g.order_ids, g.rail_keys
       FROM ranked_lines l JOIN ranked_groups g ON g.currency = l.currency AND g.payments = l.batch_count AND g.total = l.amount_minor
         AND g.n = l.n AND g.k = l.k
         AND (g.completed_at AT TIME ZONE 'UTC')::date BETWEEN l.value_date - ?::int AND l.value_date + ?::int
     )
     INSERT INTO statement_line_payments (statement_id, line_number, position, rail_key, order_id, match_method)
     SELECT ?::uuid, f.line_number, p.position, p.rail_key, p.order_id, 'total'
     FROM fits f, unnest(f.order_ids, f.rail_keys) WITH ORDINALITY AS p(order_id, rail_key, position)
     RETURNING line_number`,
    [statementId, windowDays, windowDays, rail, windowDays, windowDays, statementId],
  )) as { rows: { line_number: number }[] };
  return new Set(rows.map((row) => row.line_number)).size;
}

// ---- classification ----

/**
 * The temporary table of one run's outcomes: a row per (line, order) that is not simply matched, per line no
 * order explains, and per order missing from every statement. Dropped at the end of the transaction.
 */
export async function openOutcomes(db: Database): Promise<void> {
  await db.raw(
    `CREATE TEMP TABLE recon_outcomes (
       line_number integer, position integer, order_id uuid, organisation_id uuid, action text, exception_type text, dedupe_key text,
       rail_key text, rail_reference text, amount_minor bigint, currency text, reason_code text, detail jsonb
     ) ON COMMIT DROP`,
  );
}

export interface ClassifyInput {
  readonly statementId: string;
  readonly statementSeq: string;
  readonly source: string;
}

/**
 * Every booking that shows an order (named by its rail key, `:key`), in any statement: a single line by
 * reference, a line matched without one, a bulk line's payment.
 */
const BOOKINGS_OF_KEY = `
  SELECT es.seq, e.statement_id, e.line_number, 0 AS position, e.rail_reference AS ref, e.reversal
  FROM statement_lines e JOIN statements es ON es.id = e.statement_id WHERE e.rail_key = :key AND e.order_id IS NULL AND e.batch_count IS NULL
  UNION ALL
  SELECT es.seq, e.statement_id, e.line_number, 0, e.rail_reference, e.reversal
  FROM orders ko JOIN statement_lines e ON e.order_id = ko.id JOIN statements es ON es.id = e.statement_id WHERE ko.rail_key = :key
  UNION ALL
  SELECT es.seq, p.statement_id, p.line_number, p.position, COALESCE(p.rail_reference, e.rail_reference), e.reversal
  FROM statement_line_payments p JOIN statement_lines e ON e.statement_id = p.statement_id AND e.line_number = p.line_number
  JOIN statements es ON es.id = p.statement_id WHERE p.rail_key = :key AND p.order_id IS NOT NULL`;

/**
 * The orders (by rail key) this statement shows that may carry a second booking: shown twice in it, or shown
 * by another statement too. Kept in a temporary table, analysed, so that the judging statement knows it is
 * small (usually) and looks lines up in it by hash.
 */
export async function findRepeatedOrders(db: Database, statementId: string): Promise<number> {
  await db.raw(
    `CREATE TEMP TABLE recon_repeated ON COMMIT DROP AS
     WITH keys AS (
       SELECT l.rail_key AS key FROM statement_lines l WHERE l.statement_id = :S AND l.batch_count IS NULL AND l.order_id IS NULL AND l.rail_key IS NOT NULL
       UNION ALL
       SELECT o.rail_key FROM statement_lines l JOIN orders o ON o.id = l.order_id WHERE l.statement_id = :S AND l.order_id IS NOT NULL
       UNION ALL
       SELECT p.rail_key FROM statement_line_payments p WHERE p.statement_id = :S AND p.order_id IS NOT NULL
     )
     SELECT key FROM keys GROUP BY key HAVING count(*) > 1
     UNION
     SELECT k.key FROM keys k
     WHERE EXISTS (SELECT 1 FROM statement_lines e WHERE e.rail_key = k.key AND e.statement_id <> :S)
        OR EXISTS (SELECT 1 FROM statement_line_payments e WHERE e.rail_key = k.key AND e.order_id IS NOT NULL AND e.statement_id <> :S)
        OR k.key IN (SELECT o.rail_key FROM statement_lines e JOIN orders o ON o.id = e.order_id WHERE e.order_id IS NOT NULL AND e.statement_id <> :S)`,
    { S: statementId },
  );
  await db.raw('ANALYZE recon_repeated');
  const { rows } = (await db.raw('SELECT count(*)::int AS n FROM recon_repeated')) as { rows: { n: number }[] };
  return rows[0]!.n;
}

/**
 * Judges every line of the statement. Its single lines are joined to the orders once, streaming (a hash join
 * on the rail key), and only what is not simply matched is written: a second booking of a payment (a
 * reference not seen for it before, when it was booked before or earlier in this statement), a return, the
 * wrong direction, another amount, a status the booking contradicts, a payment to confirm, a line no order
 * explains. Lines matched without a reference and bulk lines (a small share) are judged alike; a bulk line is
 * also checked as a whole (its total, the keys it lists that Kassa does not know).
 */
export async function classifyLines(db: Database, input: ClassifyInput): Promise<void> {
  const { statementId: S, statementSeq: seq, source } = input;
  const bookings = BOOKINGS_OF_KEY.replaceAll(':key', 'k.order_key');
  await db.raw(
    `WITH bulk_lines AS MATERIALIZED (
       SELECT l.line_number, l.amount_minor, l.currency, l.rail_reference, l.direction, l.reversal, l.batch_count,
              count(p.position) AS listed, count(p.order_id) AS known, sum(o.amount_minor) AS known_total
       FROM statement_lines l
       LEFT JOIN statement_line_payments p ON p.statement_id = l.statement_id AND p.line_number = l.line_number
       LEFT JOIN orders o ON o.id = p.order_id
       WHERE l.statement_id = :S AND l.batch_count IS NOT NULL
       GROUP BY l.line_number, l.amount_minor, l.currency, l.rail_reference, l.direction, l.reversal, l.batch_count
     ), links AS (
       -- single lines by reference (no order: the line is unexpected)
       SELECT l.line_number, 0 AS position, l.rail_reference, l.amount_minor, l.currency, l.direction, l.reversal, l.reason_code, false AS bulk, false AS bulk_total_differs,
              l.rail_key, l.counterparty, l.booking_date, l.value_date,
              o.id AS order_id, o.rail_key AS order_key, o.organisation_id, o.status, o.kind, o.amount_minor AS order_amount, o.currency AS order_currency
       FROM statement_lines l LEFT JOIN orders o ON o.rail_key = l.rail_key
       WHERE l.statement_id = :S AND l.batch_count IS NULL AND l.order_id IS NULL
       UNION ALL
       -- single lines matched without a reference
       SELECT l.line_number, 0, l.rail_reference, l.amount_minor, l.currency, l.direction, l.reversal, l.reason_code, false, false,
              l.rail_key, l.counterparty, l.booking_date, l.value_date,
              o.id, o.rail_key, o.organisation_id, o.status, o.kind, o.amount_minor, o.currency
       FROM statement_lines l JOIN orders o ON o.id = l.order_id
       WHERE l.statement_id = :S AND l.batch_count IS NULL AND l.order_id IS NOT NULL
       UNION ALL
       -- the payments of bulk lines
       SELECT p.line_number, p.position, COALESCE(p.rail_reference, l.rail_reference), NULL::bigint, l.currency, l.direction, l.reversal, l.reason_code, true,
              b.known_total IS NOT NULL AND b.listed = b.known AND NOT b.reversal AND b.known_total <> b.amount_minor,
              p.rail_key, NULL, l.booking_date, l.value_date,
              o.id, o.rail_key, o.organisation_id, o.status, o.kind, o.amount_minor, o.currency
       FROM statement_line_payments p JOIN statement_lines l ON l.statement_id = p.statement_id AND l.line_number = p.line_number
       JOIN orders o ON o.id = p.order_id
       JOIN bulk_lines b ON b.line_number = p.line_number
       WHERE p.statement_id = :S
     ), checked AS (
       SELECT k.*,
         -- a second booking: a reference not seen for the payment before, when it was booked before or earlier in this statement
         CASE WHEN r.key IS NULL THEN false ELSE
           EXISTS (SELECT 1 FROM (${bookings}) f
                   WHERE f.reversal = k.reversal AND (f.seq < :seq OR (f.statement_id = :S AND (f.line_number, f.position) < (k.line_number, k.position))))
           AND NOT EXISTS (SELECT 1 FROM (${bookings}) f WHERE f.reversal = k.reversal AND f.seq < :seq AND f.ref = k.rail_reference)
         END AS duplicate
       FROM links k
       LEFT JOIN recon_repeated r ON r.key = k.order_key
     ), judged AS (
       SELECT k.*,
         CASE
           WHEN k.order_id IS NULL THEN 'unexpected_line'
           WHEN k.duplicate THEN 'duplicate_on_statement'
           WHEN k.reversal THEN 'returned'
           WHEN k.direction <> (CASE WHEN k.kind = 'benefit' THEN 'debit' ELSE 'credit' END) THEN 'unexpected_on_statement'
           WHEN NOT k.bulk AND (k.amount_minor <> k.order_amount OR k.currency <> k.order_currency) THEN 'amount_mismatch'
           WHEN k.bulk AND k.currency <> k.order_currency THEN 'amount_mismatch'
           WHEN k.status = ANY(:contradicted::text[]) THEN 'status_mismatch'
         END AS verdict
       FROM checked k
     )
     INSERT INTO recon_outcomes (line_number, position, order_id, organisation_id, action, exception_type, dedupe_key, rail_key, rail_reference, amount_minor, currency, reason_code, detail)
     SELECT v.line_number, v.position, v.order_id, v.organisation_id,
       CASE
         WHEN v.verdict = 'returned' AND v.status = 'completed' THEN 'return'
         WHEN v.verdict = 'returned' AND v.status = ANY(:confirmable::text[]) THEN 'confirm_return'
         WHEN v.verdict IS NULL AND v.status = ANY(:confirmable::text[]) AND NOT v.bulk_total_differs THEN 'confirm'
       END,
       CASE WHEN v.verdict = 'unexpected_line' THEN 'unexpected_on_statement' ELSE v.verdict END,
       CASE v.verdict
         WHEN 'unexpected_line' THEN 'unexpected:' || :source || ':' || v.rail_reference || ':' || v.direction || ':' || v.reversal || ':' || v.amount_minor
         WHEN 'duplicate_on_statement' THEN 'duplicate:' || :source || ':' || v.order_id || ':' || v.rail_reference
         WHEN 'returned' THEN 'returned:' || v.order_id
         WHEN 'unexpected_on_statement' THEN 'unexpected:' || :source || ':' || v.rail_reference || ':order:' || v.order_id
         WHEN 'amount_mismatch' THEN 'amount:' || :source || ':' || v.rail_reference || ':order:' || v.order_id
         WHEN 'status_mismatch' THEN 'status:' || v.order_id
       END,
       COALESCE(v.order_key, v.rail_key), v.rail_reference, COALESCE(v.amount_minor, v.order_amount), v.currency, v.reason_code,
       CASE WHEN v.verdict = 'unexpected_line'
         THEN jsonb_build_object('direction', v.direction, 'reversal', v.reversal, 'counterparty', v.counterparty, 'booking_date', v.booking_date::text, 'value_date', v.value_date::text)
         ELSE jsonb_build_object('order_status', v.status, 'order_amount_minor', v.order_amount::text, 'order_currency', v.order_currency,
                                 'line_amount_minor', v.amount_minor::text, 'direction', v.direction, 'reversal', v.reversal, 'bulk', v.bulk)
       END || CASE WHEN v.reason_code IS NULL THEN '{}'::jsonb ELSE jsonb_build_object('reason_code', v.reason_code) END
     FROM judged v
     WHERE v.verdict IS NOT NULL OR (v.status = ANY(:confirmable::text[]) AND NOT v.bulk_total_differs)
     UNION ALL
     -- a bulk line whose payments do not add up to it
     SELECT b.line_number, NULL, NULL, NULL, NULL, 'amount_mismatch', 'amount:' || :source || ':' || b.rail_reference || ':bulk',
       NULL, b.rail_reference, b.amount_minor, b.currency, NULL,
       jsonb_build_object('line_amount_minor', b.amount_minor::text, 'payments_total_minor', b.known_total::text, 'payments', b.known, 'batch_count', b.batch_count)
     FROM bulk_lines b WHERE b.known_total IS NOT NULL AND b.listed = b.known AND NOT b.reversal AND b.known_total <> b.amount_minor
     UNION ALL
     -- a bulk line that lists no payment Kassa could match, and payments a bulk line lists that Kassa does not know
     SELECT b.line_number, NULL, NULL, NULL, NULL, 'unexpected_on_statement',
       'unexpected:' || :source || ':' || b.rail_reference || ':' || b.direction || ':' || b.reversal || ':' || b.amount_minor,
       NULL, b.rail_reference, b.amount_minor, b.currency, NULL, jsonb_build_object('direction', b.direction, 'reversal', b.reversal, 'bulk', true, 'batch_count', b.batch_count)
     FROM bulk_lines b WHERE b.listed = 0
     UNION ALL
     SELECT p.line_number, p.position, NULL, NULL, NULL, 'unexpected_on_statement', 'unexpected:' || :source || ':' || l.rail_reference || ':key:' || p.rail_key,
       p.rail_key, l.rail_reference, NULL, l.currency, NULL, jsonb_build_object('direction', l.direction, 'reversal', l.reversal, 'bulk', true)
     FROM statement_line_payments p JOIN statement_lines l ON l.statement_id = p.statement_id AND l.line_number = p.line_number
     WHERE p.statement_id = :S AND p.order_id IS NULL`,
    { S, seq, source, contradicted: [...CONTRADICTED_STATUSES], confirmable: [...CONFIRMABLE_STATUSES] },
  );
}

export interface MissingInput {
  readonly rail: string;
  /** Only orders completed before the statement was asked for can be missing from it. */
  readonly asOf: Date;
  /** Orders completed in [from - days, to - days] (UTC dates) that no statement line shows. */
  readonly from: string;
  readonly to: string;
  readonly days: number;
}

/** Orders Kassa completed that no statement shows, `days` after their completion. */
export async function classifyMissing(db: Database, input: MissingInput): Promise<void> {
  await db.raw(
    `INSERT INTO recon_outcomes (line_number, position, order_id, organisation_id, action, exception_type, dedupe_key, rail_key, rail_reference, amount_minor, currency, reason_code, detail)
     SELECT NULL, NULL, o.id, o.organisation_id, NULL, 'missing_on_statement', 'missing:' || o.id, o.rail_key, o.rail_reference, o.amount_minor, o.currency, NULL,
       jsonb_build_object('completed_at', o.updated_at, 'missing_after_days', :days::int)
     FROM orders o
     WHERE o.rail = :rail AND o.status = 'completed'
       AND o.updated_at >= (:from::date - :days::int)::timestamp AT TIME ZONE 'UTC'
       AND o.updated_at < (:to::date - :days::int + 1)::timestamp AT TIME ZONE 'UTC'
       AND o.updated_at < :asOf
       AND ${NOT_YET_LINKED}`,
    { rail: input.rail, from: input.from, to: input.to, days: input.days, asOf: input.asOf },
  );
}

/** Records the run's exceptions; one already reported (same dedupe key) is not reported again. Answers the new ones per type. */
export async function recordExceptions(db: Database, input: { runId: string; statementId: string | null; source: string }): Promise<Partial<Record<ExceptionType, number>>> {
  const { rows } = (await db.raw(
    `INSERT INTO reconciliation_exceptions (id, dedupe_key, type, severity, organisation_id, source, order_id, statement_id, line_number, rail_key, rail_reference,
                                            amount_minor, currency, detail, run_id)
     SELECT gen_random_uuid(), dedupe_key, exception_type, ?::jsonb ->> exception_type, organisation_id, ?, order_id,
            CASE WHEN line_number IS NULL THEN NULL ELSE ?::uuid END, line_number, rail_key, rail_reference, amount_minor, currency, detail, ?
     FROM recon_outcomes WHERE exception_type IS NOT NULL
     ORDER BY line_number NULLS LAST, position
     ON CONFLICT (dedupe_key) DO NOTHING
     RETURNING type`,
    [JSON.stringify(SEVERITY_OF), input.source, input.statementId, input.runId],
  )) as { rows: { type: ExceptionType }[] };
  const counts: Partial<Record<ExceptionType, number>> = {};
  for (const row of rows) counts[row.type] = (counts[row.type] ?? 0) + 1;
  return counts;
}

export interface OrderAction {
  readonly orderId: string;
  /** The statement shows the payment was made: an order still waiting for its rail is completed. */
  readonly confirm: boolean;
  /** … and that it came back: the order is returned. */
  readonly return: boolean;
  readonly lineNumber: number;
  /** The booking's reference (of the line that confirms it, else of the return). */
  readonly railReference: string;
  readonly reasonCode: string | null;
}

/** The order changes the run's outcomes call for, one per order (a payment confirmed and returned by one statement gets both). */
export async function orderActions(db: Database): Promise<OrderAction[]> {
  const { rows } = (await db.raw(
    `SELECT order_id,
            bool_or(action IN ('confirm', 'confirm_return')) AS confirm,
            bool_or(action IN ('return', 'confirm_return')) AS returned,
            min(line_number) AS line_number,
            (array_agg(rail_reference ORDER BY action = 'return', line_number, position))[1] AS rail_reference,
            (array_agg(reason_code ORDER BY action = 'confirm', line_number, position))[1] AS reason_code
     FROM recon_outcomes WHERE action IS NOT NULL
     GROUP BY order_id`,
  )) as { rows: { order_id: string; confirm: boolean; returned: boolean; line_number: number; rail_reference: string; reason_code: string | null }[] };
  return rows.map((row) => ({ orderId: row.order_id, confirm: row.confirm, return: row.returned, lineNumber: row.line_number, railReference: row.rail_reference, reasonCode: row.reason_code }));
}

/** Lines in the statement, and how many carry an exception (new or reported before). */
export async function lineCounts(db: Database, statementId: string): Promise<{ lines: number; unmatched: number }> {
  const { rows } = (await db.raw(
    `SELECT (SELECT line_count FROM statements WHERE id = ?) AS lines,
            (SELECT count(DISTINCT line_number) FROM recon_outcomes WHERE exception_type IS NOT NULL AND line_number IS NOT NULL)::int AS unmatched`,
    [statementId],
  )) as { rows: { lines: number; unmatched: number }[] };
  return { lines: rows[0]!.lines, unmatched: rows[0]!.unmatched };
}

/** Open "missing" exceptions of orders this statement shows after all: resolved by the run. */
export async function resolveFoundMissing(db: Database, statementId: string, runId: string): Promise<ReconciliationException[]> {
  const { rows } = (await db.raw(
    `UPDATE reconciliation_exceptions x SET status = 'resolved', resolved_by = 'reconciliation', resolved_at = now(), updated_at = now(),
       resolution = 'shown by statement ' || ?::text || ' (run ' || ?::text || ')'
     WHERE x.type = 'missing_on_statement' AND x.status <> 'resolved'
       AND (EXISTS (SELECT 1 FROM statement_lines l WHERE l.rail_key = x.rail_key AND l.statement_id = ?)
         OR EXISTS (SELECT 1 FROM statement_lines l WHERE l.order_id = x.order_id AND l.statement_id = ?)
         OR EXISTS (SELECT 1 FROM statement_line_payments p WHERE p.order_id = x.order_id AND p.statement_id = ?))
     RETURNING ${EXCEPTION_COLUMNS}`,
    [statementId, runId, statementId, statementId, statementId],
  )) as { rows: ExceptionRow[] };
  return rows.map(exceptionFromRow);
}

// ---- exceptions ----

export interface ReconciliationException {
  readonly id: string;
  readonly type: ExceptionType;
  readonly severity: Severity;
  readonly status: ExceptionStatus;
  readonly organisationId: string | null;
  readonly source: string;
  readonly orderId: string | null;
  readonly statementId: string | null;
  readonly lineNumber: number | null;
  readonly railKey: string | null;
  readonly railReference: string | null;
  readonly amountMinor: bigint | null;
  readonly currency: string | null;
  readonly detail: Record<string, unknown>;
  /** Null for an exception the pipeline raised (voucher_payout_failed), which no run found. */
  readonly runId: string | null;
  readonly assignee: string | null;
  readonly assignedAt: Date | null;
  readonly resolution: string | null;
  readonly resolvedBy: string | null;
  readonly resolvedAt: Date | null;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

interface ExceptionRow {
  id: string;
  type: ExceptionType;
  severity: Severity;
  status: ExceptionStatus;
  organisation_id: string | null;
  source: string;
  order_id: string | null;
  statement_id: string | null;
  line_number: number | null;
  rail_key: string | null;
  rail_reference: string | null;
  amount_minor: string | null;
  currency: string | null;
  detail: Record<string, unknown>;
  run_id: string | null;
  assignee: string | null;
  assigned_at: Date | null;
  resolution: string | null;
  resolved_by: string | null;
  resolved_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

const EXCEPTION_COLUMNS = `id, type, severity, status, organisation_id, source, order_id, statement_id, line_number, rail_key, rail_reference, amount_minor, currency,
  detail, run_id, assignee, assigned_at, resolution, resolved_by, resolved_at, created_at, updated_at`;

function exceptionFromRow(row: ExceptionRow): ReconciliationException {
  return {
    id: row.id, type: row.type, severity: row.severity, status: row.status, organisationId: row.organisation_id, source: row.source, orderId: row.order_id,
    statementId: row.statement_id, lineNumber: row.line_number, railKey: row.rail_key, railReference: row.rail_reference,
    amountMinor: row.amount_minor === null ? null : BigInt(row.amount_minor), currency: row.currency?.trim() ?? null, detail: row.detail, runId: row.run_id,
    assignee: row.assignee, assignedAt: row.assigned_at, resolution: row.resolution, resolvedBy: row.resolved_by, resolvedAt: row.resolved_at,
    createdAt: row.created_at, updatedAt: row.updated_at,
  };
}

export interface ExceptionFilter {
  /** Undefined: every organisation's (and the deployment's own, such as unexpected lines). */
  readonly organisationId?: string;
  readonly type?: ExceptionType;
  readonly severity?: Severity;
  readonly status?: ExceptionStatus;
  readonly source?: string;
  readonly runId?: string;
  readonly from?: Date;
  readonly to?: Date;
  readonly after?: { createdAt: Date; id: string };
  readonly limit: number;
}

/** Newest first, keyset-paginated on (created_at, id). */
export async function listExceptions(db: Database, filter: ExceptionFilter): Promise<ReconciliationException[]> {
  const query = db('reconciliation_exceptions').select(db.raw(EXCEPTION_COLUMNS)).orderBy([{ column: 'created_at', order: 'desc' }, { column: 'id', order: 'desc' }]).limit(filter.limit);
  if (filter.organisationId !== undefined) query.where('organisation_id', filter.organisationId);
  if (filter.type) query.where('type', filter.type);
  if (filter.severity) query.where('severity', filter.severity);
  if (filter.status) query.where('status', filter.status);
  if (filter.source) query.where('source', filter.source);
  if (filter.runId) query.where('run_id', filter.runId);
  if (filter.from) query.where('created_at', '>=', filter.from);
  if (filter.to) query.where('created_at', '<', filter.to);
  if (filter.after) query.whereRaw('(created_at, id) < (?, ?)', [filter.after.createdAt, filter.after.id]);
  return ((await query) as ExceptionRow[]).map(exceptionFromRow);
}

export async function findException(db: Database, id: string, organisationId?: string): Promise<ReconciliationException | undefined> {
  const query = db('reconciliation_exceptions').select(db.raw(EXCEPTION_COLUMNS)).where({ id });
  if (organisationId !== undefined) query.where('organisation_id', organisationId);
  const row = (await query.first()) as ExceptionRow | undefined;
  return row ? exceptionFromRow(row) : undefined;
}

/** Guarded like an order's status: only an exception not yet resolved is assigned; undefined when it was resolved meanwhile. */
export async function assignException(db: Database, id: string, assignee: string): Promise<ReconciliationException | undefined> {
  const { rows } = (await db.raw(
    `UPDATE reconciliation_exceptions SET status = 'assigned', assignee = ?, assigned_at = now(), updated_at = now()
     WHERE id = ? AND status <> 'resolved' RETURNING ${EXCEPTION_COLUMNS}`,
    [assignee, id],
  )) as { rows: ExceptionRow[] };
  return rows[0] ? exceptionFromRow(rows[0]) : undefined;
}

export async function resolveException(db: Database, id: string, resolution: { reason: string; by: string }): Promise<ReconciliationException | undefined> {
  const { rows } = (await db.raw(
    `UPDATE reconciliation_exceptions SET status = 'resolved', resolution = ?, resolved_by = ?, resolved_at = now(), updated_at = now()
     WHERE id = ? AND status <> 'resolved' RETURNING ${EXCEPTION_COLUMNS}`,
    [resolution.reason, resolution.by, id],
  )) as { rows: ExceptionRow[] };
  return rows[0] ? exceptionFromRow(rows[0]) : undefined;
}
