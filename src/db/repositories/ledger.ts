import { movementsInto, type AccountKind, type JournalDraft, type JournalKind } from '../../domain/ledger.ts';
import type { OrderStatus } from '../../domain/order-status.ts';
import type { Database } from '../knex.ts';

/**
 * CTEs that post the journals of the orders a status change has just moved, inside the statement that moves
 * them, so that no order changes status without its money movement and none is posted twice. They read
 * `changed` (the moved orders: `orders.*` with `event_detail`, `rail_fee_minor` and `rail_fee_currency`) and
 * the binding `:movements`, and leave `order_journals (order_id, from_status, to_status, event_detail,
 * journal_id)`: every moved order, with the journal that posted its movement, if any. A move into a status that
 * moves no money gets `order_journals` from NO_MOVEMENT instead, without posting anything and without the cost.
 *
 * Orders moved together post one journal per organisation, currency, movement, program and batch (and, when reversing,
 * per journal reversed), with one posting per account: a chunk of a thousand payments is a handful of rows.
 * Every join of a thousand orders is to a handful of rows (movements, journals), so that the planner, which
 * cannot count the rows of a CTE, never loops over orders once per order. An account is created by the first
 * posting to it. The stand-ins in account segments are those of src/domain/ledger.ts; a stand-in with nothing
 * to fill it is dropped by array_to_string.
 */
const POST_ORDER_MOVEMENTS = `
  movements AS (
    SELECT * FROM jsonb_to_recordset(:movements::jsonb) AS m(journal text, order_kind text, from_program boolean, reverses text, legs jsonb)
  ), matched AS (
    SELECT c.id AS order_id, c.previous_status, c.status, c.event_detail, c.organisation_id, c.currency, c.amount_minor, c.rail,
           c.rail_fee_minor, c.rail_fee_currency, c.batch_id, c.program_id,
           (CASE c.kind WHEN 'benefit' THEN c.payee ELSE c.payer END) ->> 'institution' AS institution,
           m.journal, m.from_program, original.journal_id AS reverses_journal_id,
           m.journal IS NOT NULL AND (m.reverses IS NULL OR original.journal_id IS NOT NULL) AS posts
    FROM changed c
    LEFT JOIN movements m ON m.order_kind = c.kind AND m.from_program = (c.program_id IS NOT NULL)
    LEFT JOIN LATERAL (
      SELECT e.journal_id FROM order_events e
      WHERE m.reverses IS NOT NULL AND e.order_id = c.id AND e.to_status = m.reverses AND e.journal_id IS NOT NULL
      ORDER BY e.id DESC LIMIT 1
    ) original ON true
  ), moving AS (
    SELECT matched.*,
           CASE WHEN posts THEN dense_rank() OVER (PARTITION BY posts ORDER BY organisation_id, currency, journal, program_id, batch_id, reverses_journal_id) END AS journal_no
    FROM matched
  ), journal_heads AS (
    SELECT h.*, gen_random_uuid() AS journal_id
    FROM (
      SELECT journal_no, organisation_id, journal, program_id, batch_id, reverses_journal_id, CASE WHEN count(*) = 1 THEN min(order_id::text)::uuid END AS order_id
      FROM moving
      WHERE posts
      GROUP BY journal_no, organisation_id, journal, program_id, batch_id, reverses_journal_id
    ) h
  ), journals AS (
    INSERT INTO ledger_journals (id, organisation_id, kind, order_id, batch_id, program_id, reverses_journal_id)
    SELECT journal_id, organisation_id, journal, order_id, batch_id, program_id, reverses_journal_id FROM journal_heads
  ), flows AS (
    SELECT journal_no, organisation_id, journal, from_program, rail, institution, currency, sum(amount_minor) AS amount_minor,
           rail_fee_currency, sum(rail_fee_minor) AS rail_fee_minor
    FROM moving
    WHERE posts
    GROUP BY journal_no, organisation_id, journal, from_program, rail, institution, currency, rail_fee_currency
  ), leg_amounts AS (
    SELECT f.journal_no, f.organisation_id, l.kind,
           array_to_string(ARRAY(
             SELECT CASE s.segment WHEN '{program}' THEN h.program_id::text WHEN '{rail}' THEN f.rail WHEN '{institution}' THEN f.institution ELSE s.segment END
             FROM unnest(l.segments) WITH ORDINALITY AS s(segment, position) ORDER BY s.position), ':') AS account,
           CASE l.measure WHEN 'amount' THEN f.currency ELSE f.rail_fee_currency END AS currency,
           l.sign * CASE l.measure WHEN 'amount' THEN f.amount_minor ELSE f.rail_fee_minor END AS amount_minor
    FROM flows f
    JOIN journal_heads h ON h.journal_no = f.journal_no
    JOIN movements m ON m.journal = f.journal AND m.from_program = f.from_program
    CROSS JOIN LATERAL jsonb_to_recordset(m.legs) AS l(kind text, segments text[], sign integer, measure text)
    WHERE l.measure = 'amount' OR f.rail_fee_minor <> 0
  ), accounts AS (
    -- in key order, so that two statements creating the same accounts never wait on each other crosswise
    INSERT INTO ledger_accounts (organisation_id, currency, code, kind)
    SELECT DISTINCT organisation_id, currency, account, kind FROM leg_amounts ORDER BY organisation_id, currency, account
    ON CONFLICT DO NOTHING
  ), postings AS (
    INSERT INTO ledger_postings (journal_id, organisation_id, account, currency, amount_minor)
    SELECT h.journal_id, l.organisation_id, l.account, l.currency, sum(l.amount_minor)
    FROM leg_amounts l JOIN journal_heads h ON h.journal_no = l.journal_no
    GROUP BY h.journal_id, l.organisation_id, l.account, l.currency
    HAVING sum(l.amount_minor) <> 0
  ), order_journals AS (
    SELECT m.order_id, m.previous_status AS from_status, m.status AS to_status, m.event_detail, h.journal_id
    FROM moving m LEFT JOIN journal_heads h ON h.journal_no = m.journal_no
  )`;

const NO_MOVEMENT = `
  order_journals AS (
    SELECT id AS order_id, previous_status AS from_status, status AS to_status, event_detail, NULL::uuid AS journal_id FROM changed
  )`;

/** The CTEs for orders moving into `to`, and the bindings they need. */
export function orderJournalsCtes(to: OrderStatus): { sql: string; bindings: { movements?: string } } {
  const movements = movementsInto(to);
  if (movements.length === 0) return { sql: NO_MOVEMENT, bindings: {} };
  return {
    sql: POST_ORDER_MOVEMENTS,
    bindings: {
      movements: JSON.stringify(movements.map((movement) => ({
        journal: movement.journal,
        order_kind: movement.orderKind,
        from_program: movement.fromProgram,
        reverses: movement.reverses ?? null,
        legs: movement.legs.map((leg) => ({ kind: leg.account.kind, segments: leg.account.segments, sign: leg.sign, measure: leg.measure })),
      }))),
    },
  };
}

/** Posts a journal worked out in full by the caller (a batch's funds), creating its accounts on first use. */
export async function postJournal(db: Database, draft: JournalDraft): Promise<string> {
  const { rows } = (await db.raw(
    `WITH input AS (
       SELECT * FROM jsonb_to_recordset(:postings::jsonb) AS p(account text, kind text, currency text, amount_minor bigint)
     ), accounts AS (
       INSERT INTO ledger_accounts (organisation_id, currency, code, kind)
       SELECT :organisationId::uuid, currency, account, kind FROM input ORDER BY currency, account
       ON CONFLICT DO NOTHING
     ), journal AS (
       INSERT INTO ledger_journals (organisation_id, kind, batch_id, program_id)
       VALUES (:organisationId::uuid, :kind, :batchId::uuid, :programId::uuid)
       RETURNING id
     ), postings AS (
       INSERT INTO ledger_postings (journal_id, organisation_id, account, currency, amount_minor)
       SELECT journal.id, :organisationId::uuid, input.account, input.currency, input.amount_minor FROM journal, input
     )
     SELECT id FROM journal`,
    {
      organisationId: draft.organisationId, kind: draft.kind, batchId: draft.batchId, programId: draft.programId,
      postings: JSON.stringify(draft.postings.map((posting) => ({
        account: posting.account.code, kind: posting.account.kind, currency: posting.currency, amount_minor: posting.amountMinor.toString(),
      }))),
    },
  )) as { rows: { id: string }[] };
  return rows[0]!.id;
}

export interface AccountBalance {
  readonly code: string;
  readonly kind: AccountKind;
  readonly currency: string;
  readonly balanceMinor: bigint;
}

/**
 * The organisation's accounts with their balances: the sum of the postings of journals booked at or before
 * `asOf` (every journal when it is not given). Accounts opened after `asOf` are not listed.
 */
export async function listAccounts(db: Database, filter: { organisationId: string; currency?: string; asOf?: Date }): Promise<AccountBalance[]> {
  const { rows } = (await db.raw(
    `SELECT a.code, a.kind, a.currency, COALESCE(t.balance, 0)::text AS balance_minor
     FROM ledger_accounts a
     LEFT JOIN (
       SELECT p.currency, p.account, sum(p.amount_minor) AS balance
       FROM ledger_postings p JOIN ledger_journals j ON j.id = p.journal_id
       WHERE p.organisation_id = :organisationId AND j.booked_at <= :asOf::timestamptz
       GROUP BY p.currency, p.account
     ) t ON t.currency = a.currency AND t.account = a.code
     WHERE a.organisation_id = :organisationId AND a.created_at <= :asOf::timestamptz
       AND (:currency::text IS NULL OR a.currency = :currency::text)
     ORDER BY a.currency, a.code`,
    { organisationId: filter.organisationId, asOf: filter.asOf ?? 'infinity', currency: filter.currency ?? null },
  )) as { rows: { code: string; kind: AccountKind; currency: string; balance_minor: string }[] };
  return rows.map((row) => ({ code: row.code, kind: row.kind, currency: row.currency.trim(), balanceMinor: BigInt(row.balance_minor) }));
}

export interface JournalPosting {
  readonly account: string;
  readonly accountKind: AccountKind;
  readonly currency: string;
  readonly amountMinor: bigint;
}

export interface Journal {
  readonly id: string;
  readonly organisationId: string;
  readonly kind: JournalKind;
  readonly orderId: string | null;
  readonly batchId: string | null;
  readonly programId: string | null;
  readonly reversesJournalId: string | null;
  readonly bookedAt: Date;
  readonly postings: readonly JournalPosting[];
}

interface JournalRow {
  id: string;
  organisation_id: string;
  kind: JournalKind;
  order_id: string | null;
  batch_id: string | null;
  program_id: string | null;
  reverses_journal_id: string | null;
  booked_at: Date;
}

/**
 * The journals that posted an order's money movements, in the order they happened. A journal of a chunk of
 * payments carries the chunk's totals; the order is one of those it covers.
 */
export async function listOrderJournals(db: Database, orderId: string): Promise<Journal[]> {
  const { rows: journals } = (await db.raw(
    `SELECT j.id, j.organisation_id, j.kind, j.order_id, j.batch_id, j.program_id, j.reverses_journal_id, j.booked_at
     FROM order_events e JOIN ledger_journals j ON j.id = e.journal_id
     WHERE e.order_id = ?
     ORDER BY e.id`,
    [orderId],
  )) as { rows: JournalRow[] };
  if (journals.length === 0) return [];
  const { rows: postings } = (await db.raw(
    `SELECT p.journal_id, p.account, a.kind, p.currency, p.amount_minor::text
     FROM ledger_postings p JOIN ledger_accounts a ON a.organisation_id = p.organisation_id AND a.currency = p.currency AND a.code = p.account
     WHERE p.journal_id = ANY(?::uuid[])
     ORDER BY p.currency, p.amount_minor DESC, p.account`,
    [journals.map((journal) => journal.id)],
  )) as { rows: { journal_id: string; account: string; kind: AccountKind; currency: string; amount_minor: string }[] };
  return journals.map((row) => ({
    id: row.id,
    organisationId: row.organisation_id,
    kind: row.kind,
    orderId: row.order_id,
    batchId: row.batch_id,
    programId: row.program_id,
    reversesJournalId: row.reverses_journal_id,
    bookedAt: row.booked_at,
    postings: postings.filter((posting) => posting.journal_id === row.id).map((posting) => ({
      account: posting.account, accountKind: posting.kind, currency: posting.currency.trim(), amountMinor: BigInt(posting.amount_minor),
    })),
  }));
}
