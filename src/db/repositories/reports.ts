import { SEVERITIES, type ExceptionType, type Severity } from '../../domain/reconciliation.ts';
import type { Database } from '../knex.ts';

/**
 * The daily treasury report, read set-based: every figure is an aggregate computed by PostgreSQL. The day's
 * journals are found by time through an index (by organisation and time, or by time alone for every
 * organisation); balances are sums over every journal booked before the day's end, which no index can
 * shorten. Run the reads in one repeatable-read transaction, so that they all see the same ledger.
 */

/**
 * Gives the rest of the caller's transaction the memory to sum the ledger in one pass: the balances hash every
 * posting booked before the day's end against its journal, which spills to disk under the default work_mem
 * once the ledger is a few months old.
 */
export async function allowReportMemory(db: Database): Promise<void> {
  await db.raw(`SET LOCAL work_mem = '64MB'`);
}

export interface ReportDay {
  /** The first instant of the day and the first instant after it. */
  readonly from: Date;
  readonly to: Date;
  /** The organisation asked about; null when there is no such organisation (or none was asked about). */
  readonly organisationName: string | null;
}

/** The day's bounds in `timeZone`, worked out by PostgreSQL (a day is 23 or 25 hours long when clocks change). */
export async function findReportDay(db: Database, request: { date: string; timeZone: string; organisationId: string | null }): Promise<ReportDay> {
  const { rows } = (await db.raw(
    `SELECT (:day::date)::timestamp AT TIME ZONE :timeZone AS day_start,
            (:day::date + 1)::timestamp AT TIME ZONE :timeZone AS day_end,
            (SELECT name FROM organisations WHERE id = :organisationId::uuid) AS organisation_name`,
    { day: request.date, timeZone: request.timeZone, organisationId: request.organisationId },
  )) as { rows: { day_start: Date; day_end: Date; organisation_name: string | null }[] };
  const row = rows[0]!;
  return { from: row.day_start, to: row.day_end, organisationName: row.organisation_name };
}

export interface ReportScope {
  readonly date: string;
  readonly from: Date;
  readonly to: Date;
  /** null: every organisation of the deployment. */
  readonly organisationId: string | null;
}

const bindingsOf = (scope: ReportScope) => ({ day: scope.date, from: scope.from, to: scope.to, organisationId: scope.organisationId });
const ownOnly = (scope: ReportScope, column: string) => (scope.organisationId === null ? '' : `AND ${column} = :organisationId::uuid`);

export interface Movement {
  readonly amountMinor: bigint;
  /** The orders behind the journals that posted it. */
  readonly orders: number;
}

export interface Position {
  readonly organisationId: string;
  readonly organisationName: string;
  /** Null for fees and for benefits paid outside any program. */
  readonly programId: string | null;
  readonly programCode: string | null;
  readonly currency: string;
  readonly openingMinor: bigint;
  readonly collected: Movement;
  readonly returnedFees: Movement;
  readonly disbursed: Movement;
  readonly returnedBenefits: Movement;
  readonly fees: Movement;
  readonly closingMinor: bigint;
  /** At the end of the day, for a program's row in the program's currency. */
  readonly program: { readonly budgetMinor: bigint; readonly blockedMinor: bigint; readonly availableMinor: bigint } | null;
}

interface PositionRow {
  organisation_id: string;
  organisation_name: string;
  program_id: string | null;
  program_code: string | null;
  currency: string;
  opening_minor: string;
  collected_minor: string;
  collected_orders: number;
  returned_fees_minor: string;
  returned_fees_orders: number;
  disbursed_minor: string;
  disbursed_orders: number;
  returned_benefits_minor: string;
  returned_benefits_orders: number;
  fees_minor: string;
  fees_orders: number;
  closing_minor: string;
  budget_minor: string | null;
  blocked_minor: string | null;
  available_minor: string | null;
}

/**
 * A row per organisation, program and currency the ledger has posted for by the end of the day (and per
 * program that exists by then).
 *
 * The balance is the row's net cash position: fees collected − fees returned − benefits disbursed + benefits
 * returned − rail fees, that is minus the balance of its fee revenue, benefits disbursed and rail fees accounts.
 * It is summed over every journal booked before the day (opening) and up to its end (closing), in one pass.
 * The day's movements are read separately, by journal kind, from the day's journals alone; with the
 * ledger's postings as they are, closing = opening + collected − returned fees − disbursed + returned
 * benefits − rail fees exactly, and a journal kind that ever broke that would show.
 *
 * A program's blocked funds are what its budget has committed and not spent (its budget account and its
 * disbursed account, both negated: in flight included); what is available is its budget less what it committed.
 */
export async function listPositions(db: Database, scope: ReportScope): Promise<Position[]> {
  const { rows } = (await db.raw(
    `WITH history AS (
       SELECT j.organisation_id, j.program_id, p.currency,
              -COALESCE(sum(p.amount_minor) FILTER (WHERE a.kind IN ('fee_revenue', 'benefits_disbursed', 'rail_fees') AND j.booked_at < :from), 0) AS opening,
              -COALESCE(sum(p.amount_minor) FILTER (WHERE a.kind IN ('fee_revenue', 'benefits_disbursed', 'rail_fees')), 0) AS closing,
              COALESCE(sum(p.amount_minor) FILTER (WHERE a.kind = 'program_budget'), 0) AS budget_account,
              COALESCE(sum(p.amount_minor) FILTER (WHERE a.kind = 'benefits_disbursed'), 0) AS disbursed_account
       FROM ledger_journals j
       JOIN ledger_postings p ON p.journal_id = j.id
       JOIN ledger_accounts a ON a.organisation_id = p.organisation_id AND a.currency = p.currency AND a.code = p.account
       WHERE j.booked_at < :to ${ownOnly(scope, 'j.organisation_id')}
       GROUP BY j.organisation_id, j.program_id, p.currency
     ), day_journals AS MATERIALIZED (
       SELECT j.id, j.organisation_id, j.program_id, j.kind
       FROM ledger_journals j
       WHERE j.booked_at >= :from AND j.booked_at < :to ${ownOnly(scope, 'j.organisation_id')}
     ), orders_behind AS (
       SELECT e.journal_id, count(DISTINCT e.order_id) AS orders
       FROM order_events e
       WHERE e.journal_id IN (SELECT id FROM day_journals)
       GROUP BY e.journal_id
     ), day_measures AS (
       SELECT j.id AS journal_id, j.organisation_id, j.program_id, p.currency,
              CASE
                WHEN a.kind = 'fee_revenue' AND j.kind = 'fee_collected' THEN 'collected'
                WHEN a.kind = 'fee_revenue' AND j.kind = 'fee_returned' THEN 'returned_fees'
                WHEN a.kind = 'benefits_disbursed' AND j.kind = 'benefit_completed' THEN 'disbursed'
                WHEN a.kind = 'benefits_disbursed' AND j.kind = 'benefit_returned' THEN 'returned_benefits'
                WHEN a.kind = 'rail_fees' THEN 'fees'
              END AS measure,
              sum(p.amount_minor) AS amount
       FROM day_journals j
       JOIN ledger_postings p ON p.journal_id = j.id
       JOIN ledger_accounts a ON a.organisation_id = p.organisation_id AND a.currency = p.currency AND a.code = p.account
       GROUP BY j.id, j.organisation_id, j.program_id, p.currency, measure
     ), movements AS (
       -- signed so that each is positive: revenue and returned benefits are credits, the rest debits
       SELECT m.organisation_id, m.program_id, m.currency,
              -sum(m.amount) FILTER (WHERE m.measure = 'collected') AS collected, sum(b.orders) FILTER (WHERE m.measure = 'collected') AS collected_orders,
              sum(m.amount) FILTER (WHERE m.measure = 'returned_fees') AS returned_fees, sum(b.orders) FILTER (WHERE m.measure = 'returned_fees') AS returned_fees_orders,
              sum(m.amount) FILTER (WHERE m.measure = 'disbursed') AS disbursed, sum(b.orders) FILTER (WHERE m.measure = 'disbursed') AS disbursed_orders,
              -sum(m.amount) FILTER (WHERE m.measure = 'returned_benefits') AS returned_benefits, sum(b.orders) FILTER (WHERE m.measure = 'returned_benefits') AS returned_benefits_orders,
              sum(m.amount) FILTER (WHERE m.measure = 'fees') AS fees, sum(b.orders) FILTER (WHERE m.measure = 'fees') AS fees_orders
       FROM day_measures m LEFT JOIN orders_behind b ON b.journal_id = m.journal_id
       WHERE m.measure IS NOT NULL
       GROUP BY m.organisation_id, m.program_id, m.currency
     ), programs_then AS (
       SELECT pr.organisation_id, pr.id AS program_id, pr.currency, pr.budget_minor
       FROM programs pr
       WHERE pr.created_at < :to ${ownOnly(scope, 'pr.organisation_id')}
     ), report_rows AS (
       SELECT organisation_id, program_id, currency FROM history
       UNION
       SELECT organisation_id, program_id, currency FROM programs_then
     )
     SELECT r.organisation_id, o.name AS organisation_name, r.program_id, pr.code AS program_code, rtrim(r.currency) AS currency,
            COALESCE(h.opening, 0)::text AS opening_minor,
            COALESCE(mv.collected, 0)::text AS collected_minor, COALESCE(mv.collected_orders, 0)::int AS collected_orders,
            COALESCE(mv.returned_fees, 0)::text AS returned_fees_minor, COALESCE(mv.returned_fees_orders, 0)::int AS returned_fees_orders,
            COALESCE(mv.disbursed, 0)::text AS disbursed_minor, COALESCE(mv.disbursed_orders, 0)::int AS disbursed_orders,
            COALESCE(mv.returned_benefits, 0)::text AS returned_benefits_minor, COALESCE(mv.returned_benefits_orders, 0)::int AS returned_benefits_orders,
            COALESCE(mv.fees, 0)::text AS fees_minor, COALESCE(mv.fees_orders, 0)::int AS fees_orders,
            COALESCE(h.closing, 0)::text AS closing_minor,
            t.budget_minor::text AS budget_minor,
            CASE WHEN t.program_id IS NOT NULL THEN (-COALESCE(h.budget_account, 0) - COALESCE(h.disbursed_account, 0))::text END AS blocked_minor,
            CASE WHEN t.program_id IS NOT NULL THEN (t.budget_minor + COALESCE(h.budget_account, 0))::text END AS available_minor
     FROM report_rows r
     JOIN organisations o ON o.id = r.organisation_id
     LEFT JOIN programs pr ON pr.id = r.program_id
     LEFT JOIN history h ON h.organisation_id = r.organisation_id AND h.program_id IS NOT DISTINCT FROM r.program_id AND h.currency = r.currency
     LEFT JOIN movements mv ON mv.organisation_id = r.organisation_id AND mv.program_id IS NOT DISTINCT FROM r.program_id AND mv.currency = r.currency
     LEFT JOIN programs_then t ON t.program_id = r.program_id AND t.currency = r.currency
     ORDER BY o.name, pr.code NULLS FIRST, r.currency`,
    bindingsOf(scope),
  )) as { rows: PositionRow[] };
  return rows.map((row) => ({
    organisationId: row.organisation_id,
    organisationName: row.organisation_name,
    programId: row.program_id,
    programCode: row.program_code,
    currency: row.currency,
    openingMinor: BigInt(row.opening_minor),
    collected: { amountMinor: BigInt(row.collected_minor), orders: row.collected_orders },
    returnedFees: { amountMinor: BigInt(row.returned_fees_minor), orders: row.returned_fees_orders },
    disbursed: { amountMinor: BigInt(row.disbursed_minor), orders: row.disbursed_orders },
    returnedBenefits: { amountMinor: BigInt(row.returned_benefits_minor), orders: row.returned_benefits_orders },
    fees: { amountMinor: BigInt(row.fees_minor), orders: row.fees_orders },
    closingMinor: BigInt(row.closing_minor),
    program: row.budget_minor === null
      ? null
      : { budgetMinor: BigInt(row.budget_minor), blockedMinor: BigInt(row.blocked_minor!), availableMinor: BigInt(row.available_minor!) },
  }));
}

export interface ClearingPosition {
  readonly account: string;
  readonly rail: string;
  /** Null for a rail's account without an institution (`clearing:<rail>`). */
  readonly institution: string | null;
  readonly currency: string;
  readonly openingMinor: bigint;
  /** The day's debits and credits to the account, each a positive amount. */
  readonly debitsMinor: bigint;
  readonly creditsMinor: bigint;
  readonly closingMinor: bigint;
}

/**
 * Every clearing account (`clearing:<rail>[:<institution>]`) posted to by the end of the day, summed over the
 * organisations in scope: balance before the day, the day's debits and credits, balance at its end.
 */
export async function listClearingPositions(db: Database, scope: ReportScope): Promise<ClearingPosition[]> {
  const { rows } = (await db.raw(
    `WITH clearing AS (
       SELECT p.account, p.currency, p.amount_minor, j.booked_at >= :from AS on_day
       FROM ledger_journals j
       JOIN ledger_postings p ON p.journal_id = j.id
       JOIN ledger_accounts a ON a.organisation_id = p.organisation_id AND a.currency = p.currency AND a.code = p.account
       WHERE j.booked_at < :to AND a.kind = 'clearing' ${ownOnly(scope, 'j.organisation_id')}
     ), accounts AS (
       SELECT account, split_part(account, ':', 2) AS rail, rtrim(currency) AS currency,
              COALESCE(sum(amount_minor) FILTER (WHERE NOT on_day), 0) AS opening,
              COALESCE(sum(amount_minor) FILTER (WHERE on_day AND amount_minor > 0), 0) AS debits,
              -COALESCE(sum(amount_minor) FILTER (WHERE on_day AND amount_minor < 0), 0) AS credits,
              sum(amount_minor) AS closing
       FROM clearing
       GROUP BY account, currency
     )
     -- the institution is whatever follows 'clearing:<rail>:'
     SELECT account, rail, NULLIF(substr(account, length(rail) + 11), '') AS institution, currency,
            opening::text AS opening_minor, debits::text AS debits_minor, credits::text AS credits_minor, closing::text AS closing_minor
     FROM accounts
     ORDER BY rail, currency, account`,
    bindingsOf(scope),
  )) as { rows: { account: string; rail: string; institution: string | null; currency: string; opening_minor: string; debits_minor: string; credits_minor: string; closing_minor: string }[] };
  return rows.map((row) => ({
    account: row.account,
    rail: row.rail,
    institution: row.institution,
    currency: row.currency,
    openingMinor: BigInt(row.opening_minor),
    debitsMinor: BigInt(row.debits_minor),
    creditsMinor: BigInt(row.credits_minor),
    closingMinor: BigInt(row.closing_minor),
  }));
}

export interface RailDay {
  readonly rail: string;
  readonly currency: string;
  /**
   * What left through the rail that day by the ledger, net of what came in: benefits completed, rail fees and
   * fees refunded, less fees collected and benefits returned.
   */
  readonly ledgerNetOutMinor: bigint;
  /** The day's bookings on the rail's statements. */
  readonly statementLines: number;
  readonly statementCreditsMinor: bigint;
  readonly statementDebitsMinor: bigint;
}

/**
 * The bookings of statements from the rail, booked that day. A booking is known by its bank reference,
 * direction, reversal flag and amount: one shown by several statements (an intraday pull and the day's
 * statement) counts once. For one organisation, the bookings that show its payments: lines naming them, and its payments'
 * share of bulk lines (at their amounts).
 */
function statementBookings(scope: ReportScope): string {
  // The statements covering the day are few: their lines are found by the lines' key, not by scanning them all.
  const lines = `
    SELECT s.source AS rail, l.*
    FROM statement_lines l JOIN statements s ON s.id = l.statement_id
    WHERE l.statement_id = ANY (ARRAY(SELECT id FROM statements WHERE period_from <= :day::date AND period_to >= :day::date))
      AND l.booking_date = :day::date`;
  if (scope.organisationId === null) {
    return `day_lines AS (${lines}
    ), bookings AS (
      SELECT DISTINCT rail, currency, rail_reference, direction, reversal, amount_minor, NULL::uuid AS order_id FROM day_lines
    )`;
  }
  return `day_lines AS MATERIALIZED (${lines}
    ), bookings AS (
      SELECT l.rail, l.currency, l.rail_reference, l.direction, l.reversal, l.amount_minor, NULL::uuid AS order_id
      FROM day_lines l JOIN orders o ON o.rail_key = l.rail_key
      WHERE l.batch_count IS NULL AND l.order_id IS NULL AND o.organisation_id = :organisationId::uuid
      UNION
      SELECT l.rail, l.currency, l.rail_reference, l.direction, l.reversal, l.amount_minor, NULL::uuid
      FROM day_lines l JOIN orders o ON o.id = l.order_id
      WHERE l.batch_count IS NULL AND o.organisation_id = :organisationId::uuid
      UNION
      SELECT l.rail, l.currency, l.rail_reference, l.direction, l.reversal, o.amount_minor, o.id
      FROM day_lines l
      JOIN statement_line_payments lp ON lp.statement_id = l.statement_id AND lp.line_number = l.line_number
      JOIN orders o ON o.id = lp.order_id
      WHERE o.organisation_id = :organisationId::uuid
    )`;
}

/** Per rail and currency, what the ledger says moved through the rail that day, and what its statements show. */
export async function listRailDays(db: Database, scope: ReportScope): Promise<RailDay[]> {
  const { rows } = (await db.raw(
    `WITH day_journals AS MATERIALIZED (
       SELECT j.id, j.kind
       FROM ledger_journals j
       WHERE j.booked_at >= :from AND j.booked_at < :to ${ownOnly(scope, 'j.organisation_id')}
     ), settled AS (
       -- a dispatch and its failure move money in and out of clearing that the bank never sees
       SELECT split_part(p.account, ':', 2) AS rail, p.currency, -sum(p.amount_minor) AS net_out
       FROM day_journals j
       JOIN ledger_postings p ON p.journal_id = j.id
       JOIN ledger_accounts a ON a.organisation_id = p.organisation_id AND a.currency = p.currency AND a.code = p.account
       WHERE a.kind = 'clearing' AND j.kind IN ('benefit_completed', 'fee_collected', 'fee_returned')
       GROUP BY 1, 2
       UNION ALL
       -- a returned benefit comes back through its rail, though its journal posts to no clearing account
       SELECT o.rail, o.currency, -sum(o.amount_minor)
       FROM day_journals j
       JOIN order_events e ON e.journal_id = j.id
       JOIN orders o ON o.id = e.order_id
       WHERE j.kind = 'benefit_returned'
       GROUP BY 1, 2
     ), ledger AS (
       SELECT rail, rtrim(currency) AS currency, sum(net_out) AS net_out FROM settled GROUP BY 1, 2
     ), ${statementBookings(scope)}, statement AS (
       SELECT rail, rtrim(currency) AS currency,
              count(DISTINCT (rail_reference, direction, reversal)) AS lines,
              COALESCE(sum(amount_minor) FILTER (WHERE direction = 'credit'), 0) AS credits,
              COALESCE(sum(amount_minor) FILTER (WHERE direction = 'debit'), 0) AS debits
       FROM bookings
       GROUP BY 1, 2
     )
     SELECT COALESCE(l.rail, s.rail) AS rail, COALESCE(l.currency, s.currency) AS currency,
            COALESCE(l.net_out, 0)::text AS ledger_net_out_minor,
            COALESCE(s.lines, 0)::int AS statement_lines,
            COALESCE(s.credits, 0)::text AS statement_credits_minor,
            COALESCE(s.debits, 0)::text AS statement_debits_minor
     FROM ledger l FULL JOIN statement s ON s.rail = l.rail AND s.currency = l.currency
     ORDER BY 1, 2`,
    bindingsOf(scope),
  )) as { rows: { rail: string; currency: string; ledger_net_out_minor: string; statement_lines: number; statement_credits_minor: string; statement_debits_minor: string }[] };
  return rows.map((row) => ({
    rail: row.rail,
    currency: row.currency,
    ledgerNetOutMinor: BigInt(row.ledger_net_out_minor),
    statementLines: row.statement_lines,
    statementCreditsMinor: BigInt(row.statement_credits_minor),
    statementDebitsMinor: BigInt(row.statement_debits_minor),
  }));
}

export interface OpenExceptions {
  readonly type: ExceptionType;
  readonly severity: Severity;
  /** Null for exceptions that name no amount (a payment a bulk line lists that Kassa does not know). */
  readonly currency: string | null;
  readonly count: number;
  readonly amountMinor: bigint | null;
  readonly oldestOpenedAt: Date;
  /** Whole days from the oldest one's opening to the end of the day. */
  readonly oldestAgeDays: number;
}

/** Exceptions opened before the day's end and not resolved by then, per type, severity and currency, most severe first. */
export async function listOpenExceptions(db: Database, scope: ReportScope): Promise<OpenExceptions[]> {
  const { rows } = (await db.raw(
    `SELECT type, severity, rtrim(currency) AS currency, count(*)::int AS count, sum(amount_minor)::text AS amount_minor,
            min(created_at) AS oldest_opened_at, extract(day FROM :to::timestamptz - min(created_at))::int AS oldest_age_days
     FROM reconciliation_exceptions
     WHERE created_at < :to AND (status <> 'resolved' OR resolved_at >= :to) ${ownOnly(scope, 'organisation_id')}
     GROUP BY type, severity, currency
     ORDER BY array_position(:severities::text[], severity), type, currency NULLS LAST`,
    { ...bindingsOf(scope), severities: [...SEVERITIES] },
  )) as { rows: { type: ExceptionType; severity: Severity; currency: string | null; count: number; amount_minor: string | null; oldest_opened_at: Date; oldest_age_days: number }[] };
  return rows.map((row) => ({
    type: row.type,
    severity: row.severity,
    currency: row.currency,
    count: row.count,
    amountMinor: row.amount_minor === null ? null : BigInt(row.amount_minor),
    oldestOpenedAt: row.oldest_opened_at,
    oldestAgeDays: row.oldest_age_days,
  }));
}
