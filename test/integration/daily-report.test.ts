import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import type { Caller } from '../../src/domain/caller.ts';
import { transitionOrders } from '../../src/db/repositories/orders.ts';
import { dailyReport } from '../../src/services/daily-report.ts';
import { presentDailyReport, type DailyReportView } from '../../src/services/present-daily-report.ts';
import { apiClient } from '../support/http.ts';
import { eventually, orderReaching, startTestKassa, type TestKassa } from '../support/kassa.ts';
import { openExceptionAt, writeCompletionAt } from '../support/rows-at.ts';
import { organisationIdOf, seedOrders } from '../support/seed-orders.ts';

type Api = ReturnType<typeof apiClient>;
type Position = DailyReportView['positions'][number];

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const FUNDING = { type: 'iban', value: 'GB82WEST12345698765432' };
const CLOSED_ACCOUNT = '+254712340000';

/** A fixed-offset zone (never UTC) in which it is now around midday, so that the day cannot turn while the suite runs. */
function middayZone(now: Date): { zone: string; offsetHours: number } {
  const offsetHours = 12 - now.getUTCHours() || 2;
  // Etc/GMT zones are named with the sign the other way round: Etc/GMT-3 is three hours ahead of UTC.
  return { zone: offsetHours > 0 ? `Etc/GMT-${offsetHours}` : `Etc/GMT+${-offsetHours}`, offsetHours };
}

const shiftDate = (date: string, days: number) => new Date(Date.parse(`${date}T00:00:00Z`) + days * DAY).toISOString().slice(0, 10);

interface Window {
  readonly date: string;
  readonly from: Date;
  readonly to: Date;
}

/** A rail fee as the test reported it with a completion: the ledger is the only other place that has it. */
interface RailFee {
  readonly organisationId: string;
  readonly rail: string;
  readonly currency: string;
  readonly minor: bigint;
  readonly at: Date;
}

interface Figures {
  opening: bigint;
  collected: bigint;
  collectedOrders: number;
  returnedFees: bigint;
  returnedFeesOrders: number;
  disbursed: bigint;
  disbursedOrders: number;
  returnedBenefits: bigint;
  returnedBenefitsOrders: number;
  fees: bigint;
  feesOrders: number;
  closing: bigint;
}

const noFigures = (): Figures => ({
  opening: 0n, collected: 0n, collectedOrders: 0, returnedFees: 0n, returnedFeesOrders: 0, disbursed: 0n, disbursedOrders: 0,
  returnedBenefits: 0n, returnedBenefitsOrders: 0, fees: 0n, feesOrders: 0, closing: 0n,
});

const positionKey = (organisationId: string, programId: string | null, currency: string) => `${organisationId} ${programId ?? '-'} ${currency}`;

/**
 * The positions worked out from the orders and their events alone (a completion or a return whose event falls in
 * the window), and from the rail fees the test reported: never from the ledger the report reads.
 */
async function recomputePositions(db: Knex, window: Window, railFees: readonly RailFee[], organisationId?: string): Promise<Map<string, Figures>> {
  const { rows } = (await db.raw(
    `SELECT o.organisation_id, b.program_id, rtrim(o.currency) AS currency, o.kind, e.to_status, o.amount_minor, e.created_at
     FROM orders o JOIN order_events e ON e.order_id = o.id LEFT JOIN batches b ON b.id = o.batch_id
     WHERE e.to_status IN ('completed', 'returned')`,
  )) as { rows: { organisation_id: string; program_id: string | null; currency: string; kind: string; to_status: string; amount_minor: string; created_at: Date }[] };
  const figures = new Map<string, Figures>();
  const add = (key: string, at: Date, cash: bigint, onDay: (entry: Figures) => void) => {
    const entry = figures.get(key) ?? noFigures();
    figures.set(key, entry);
    if (at < window.from) entry.opening += cash;
    if (at < window.to) entry.closing += cash;
    if (at >= window.from && at < window.to) onDay(entry);
  };
  for (const row of rows) {
    if (organisationId !== undefined && row.organisation_id !== organisationId) continue;
    const amount = BigInt(row.amount_minor);
    const key = positionKey(row.organisation_id, row.program_id, row.currency);
    if (row.kind === 'fee' && row.to_status === 'completed') add(key, row.created_at, amount, (entry) => { entry.collected += amount; entry.collectedOrders += 1; });
    if (row.kind === 'fee' && row.to_status === 'returned') add(key, row.created_at, -amount, (entry) => { entry.returnedFees += amount; entry.returnedFeesOrders += 1; });
    if (row.kind === 'benefit' && row.to_status === 'completed') add(key, row.created_at, -amount, (entry) => { entry.disbursed += amount; entry.disbursedOrders += 1; });
    if (row.kind === 'benefit' && row.to_status === 'returned') add(key, row.created_at, amount, (entry) => { entry.returnedBenefits += amount; entry.returnedBenefitsOrders += 1; });
  }
  for (const fee of railFees) {
    if (organisationId !== undefined && fee.organisationId !== organisationId) continue;
    add(positionKey(fee.organisationId, null, fee.currency), fee.at, -fee.minor, (entry) => { entry.fees += fee.minor; entry.feesOrders += 1; });
  }
  return figures;
}

const figuresShown = (position: Position): Figures => ({
  opening: BigInt(position.opening_balance_minor!),
  collected: BigInt(position.collected_minor!), collectedOrders: position.collected_orders,
  returnedFees: BigInt(position.returned_fees_minor!), returnedFeesOrders: position.returned_fees_orders,
  disbursed: BigInt(position.disbursed_minor!), disbursedOrders: position.disbursed_orders,
  returnedBenefits: BigInt(position.returned_benefits_minor!), returnedBenefitsOrders: position.returned_benefits_orders,
  fees: BigInt(position.fees_minor!), feesOrders: position.fees_orders,
  closing: BigInt(position.closing_balance_minor!),
});

function assertPositionsTieOut(report: DailyReportView, expected: Map<string, Figures>): void {
  const shown = new Map(report.positions.map((position) => [positionKey(position.organisation_id, position.program_id, position.currency), position]));
  for (const [key, figures] of expected) {
    if (Object.values(figures).some((value) => value !== 0n && value !== 0)) assert.ok(shown.has(key), `the report has a row for ${key}`);
  }
  for (const [key, position] of shown) assert.deepEqual(figuresShown(position), expected.get(key) ?? noFigures(), `row ${key} of ${report.date}`);
}

function assertClosingIsOpeningPlusMovements(report: DailyReportView): void {
  for (const position of report.positions) {
    const figures = figuresShown(position);
    assert.equal(figures.closing, figures.opening + figures.collected - figures.returnedFees - figures.disbursed + figures.returnedBenefits - figures.fees,
      `closing = opening + movements for ${position.organisation} ${position.program_code ?? '-'} ${position.currency}`);
  }
  for (const rail of report.settlement) {
    for (const account of rail.accounts) {
      assert.equal(BigInt(account.closing_balance_minor!), BigInt(account.opening_balance_minor!) + BigInt(account.debits_minor!) - BigInt(account.credits_minor!), account.account);
    }
  }
}

interface RailFigures {
  ledgerNetOut: bigint;
  lines: number;
  credits: bigint;
  debits: bigint;
}

/**
 * Per rail and currency, what left through the rail by the orders' events (benefits completed, fees refunded
 * and rail fees, less fees collected and benefits returned), and the statement lines booked on the day: every
 * booking once, however many statements show it. For one organisation, the bookings of its payments.
 */
async function recomputeRails(db: Knex, window: Window, railFees: readonly RailFee[], organisationId?: string): Promise<Map<string, RailFigures>> {
  const figures = new Map<string, RailFigures>();
  const entry = (rail: string, currency: string) => {
    const key = `${rail} ${currency}`;
    const found = figures.get(key) ?? { ledgerNetOut: 0n, lines: 0, credits: 0n, debits: 0n };
    figures.set(key, found);
    return found;
  };
  const { rows: events } = (await db.raw(
    `SELECT o.organisation_id, o.rail, rtrim(o.currency) AS currency, o.kind, e.to_status, o.amount_minor
     FROM orders o JOIN order_events e ON e.order_id = o.id
     WHERE e.to_status IN ('completed', 'returned') AND e.created_at >= ? AND e.created_at < ?`,
    [window.from, window.to],
  )) as { rows: { organisation_id: string; rail: string; currency: string; kind: string; to_status: string; amount_minor: string }[] };
  for (const event of events) {
    if (organisationId !== undefined && event.organisation_id !== organisationId) continue;
    const leaving = (event.kind === 'benefit') === (event.to_status === 'completed');
    entry(event.rail, event.currency).ledgerNetOut += leaving ? BigInt(event.amount_minor) : -BigInt(event.amount_minor);
  }
  for (const fee of railFees) {
    if ((organisationId === undefined || fee.organisationId === organisationId) && fee.at >= window.from && fee.at < window.to) entry(fee.rail, fee.currency).ledgerNetOut += fee.minor;
  }
  const { rows: lines } = (await db.raw(
    `SELECT s.source AS rail, rtrim(l.currency) AS currency, l.rail_reference, l.direction, l.reversal, l.amount_minor, l.batch_count,
            single.organisation_id AS single_organisation, paid.organisation_id AS payment_organisation, paid.id AS payment_order, paid.amount_minor AS payment_amount
     FROM statement_lines l
     JOIN statements s ON s.id = l.statement_id
     LEFT JOIN orders single ON l.batch_count IS NULL AND (single.rail_key = l.rail_key OR single.id = l.order_id)
     LEFT JOIN statement_line_payments p ON p.statement_id = l.statement_id AND p.line_number = l.line_number
     LEFT JOIN orders paid ON paid.id = p.order_id
     WHERE l.booking_date = ?`,
    [window.date],
  )) as { rows: { rail: string; currency: string; rail_reference: string; direction: string; reversal: boolean; amount_minor: string; batch_count: number | null; single_organisation: string | null; payment_organisation: string | null; payment_order: string | null; payment_amount: string | null }[] };
  const bookings = new Map<string, { rail: string; currency: string; line: string; direction: string; amount: bigint }>();
  for (const line of lines) {
    const booking = `${line.rail_reference} ${line.direction} ${line.reversal}`;
    const add = (share: string, amount: bigint) => bookings.set(`${line.rail} ${line.currency} ${booking} ${share}`, { rail: line.rail, currency: line.currency, line: booking, direction: line.direction, amount });
    if (organisationId === undefined) add(line.amount_minor, BigInt(line.amount_minor));
    else if (line.batch_count === null && line.single_organisation === organisationId) add(line.amount_minor, BigInt(line.amount_minor));
    else if (line.payment_organisation === organisationId) add(line.payment_order!, BigInt(line.payment_amount!));
  }
  const linesSeen = new Map<string, Set<string>>();
  for (const booking of bookings.values()) {
    const figure = entry(booking.rail, booking.currency);
    if (booking.direction === 'credit') figure.credits += booking.amount;
    else figure.debits += booking.amount;
    const seen = linesSeen.get(`${booking.rail} ${booking.currency}`) ?? new Set<string>();
    seen.add(booking.line);
    linesSeen.set(`${booking.rail} ${booking.currency}`, seen);
    figure.lines = seen.size;
  }
  return figures;
}

function assertRailsTieOut(report: DailyReportView, expected: Map<string, RailFigures>): void {
  const shown = new Map(report.settlement.map((rail) => [`${rail.rail} ${rail.currency}`, rail]));
  for (const [key, figures] of expected) {
    const rail = shown.get(key);
    assert.ok(rail, `the report has the rail and currency ${key}`);
    assert.deepEqual(
      { ledgerNetOut: BigInt(rail.ledger_net_out_minor!), lines: rail.statement.lines, credits: BigInt(rail.statement.credits_minor!), debits: BigInt(rail.statement.debits_minor!) },
      figures,
      `rail ${key} of ${report.date}`,
    );
    assert.equal(BigInt(rail.difference_minor!), figures.debits - figures.credits - figures.ledgerNetOut);
  }
}

/** Exceptions opened before the window's end and not resolved by then, from their table. */
async function recomputeExceptions(db: Knex, window: Window) {
  const open = (await db('reconciliation_exceptions').where('created_at', '<', window.to).andWhere((query) => query.whereNot('status', 'resolved').orWhere('resolved_at', '>=', window.to))) as
    { type: string; severity: string; currency: string | null; amount_minor: string | null; created_at: Date }[];
  const groups = new Map<string, { type: string; severity: string; currency: string | null; count: number; amountMinor: bigint; oldest: Date }>();
  for (const exception of open) {
    const key = `${exception.type} ${exception.currency}`;
    const group = groups.get(key) ?? { type: exception.type, severity: exception.severity, currency: exception.currency?.trim() ?? null, count: 0, amountMinor: 0n, oldest: exception.created_at };
    group.count += 1;
    group.amountMinor += BigInt(exception.amount_minor ?? 0);
    if (exception.created_at < group.oldest) group.oldest = exception.created_at;
    groups.set(key, group);
  }
  return [...groups.values()].map((group) => ({
    type: group.type, severity: group.severity, currency: group.currency, count: group.count, amount_minor: group.amountMinor.toString(),
    oldest_opened_at: group.oldest.toISOString(), oldest_age_days: Math.floor((window.to.getTime() - group.oldest.getTime()) / DAY),
  }));
}

const withoutAmounts = (exceptions: DailyReportView['exceptions']) =>
  exceptions.map(({ type, severity, currency, count, amount_minor, oldest_opened_at, oldest_age_days }) => ({ type, severity, currency, count, amount_minor, oldest_opened_at, oldest_age_days }));
const bySeverityAndType = <T extends { severity: string; type: string }>(list: readonly T[]) =>
  [...list].sort((a, b) => ['critical', 'high', 'medium', 'low'].indexOf(a.severity) - ['critical', 'high', 'medium', 'low'].indexOf(b.severity) || a.type.localeCompare(b.type));

describe('the daily treasury report', function () {
  this.timeout(180_000);
  let kassa: TestKassa;
  let treasury: Api;
  let pensionsReader: Api;
  let pensionsId: string;
  let landsId: string;
  let programId: string;
  let scheduledBatchId: string;
  let today: Window;
  const railFees: RailFee[] = [];

  const db = () => kassa.runtime.context.db;
  const windowOf = (date: string): Window => ({ date, from: new Date(today.from.getTime() + (Date.parse(date) - Date.parse(today.date))), to: new Date(today.to.getTime() + (Date.parse(date) - Date.parse(today.date))) });
  const reportOf = async (api: Api, date: string, query = '') => {
    const answer = await api.get(`/v1/reports/daily?date=${date}${query}`);
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    return answer.body as DailyReportView;
  };
  const positionOf = (report: DailyReportView, organisationId: string, programId: string | null, currency: string) => {
    const position = report.positions.find((candidate) => candidate.organisation_id === organisationId && candidate.program_id === programId && candidate.currency === currency);
    assert.ok(position, `a row for ${organisationId} ${programId ?? '-'} ${currency} in ${report.date}`);
    return position;
  };

  before(async () => {
    const { zone, offsetHours } = middayZone(new Date());
    kassa = await startTestKassa({ backend: 'postgres', env: { REPORT_TIMEZONE: zone, BATCH_MONITOR_MS: '200', BATCH_CHUNK_ROWS: '50' } });
    const date = new Date(Date.now() + offsetHours * HOUR).toISOString().slice(0, 10);
    const from = new Date(Date.parse(`${date}T00:00:00Z`) - offsetHours * HOUR);
    today = { date, from, to: new Date(from.getTime() + DAY) };

    const admin = apiClient(kassa.url, await kassa.issueKey('ministry-of-finance', ['admin', 'treasury:write']));
    treasury = apiClient(kassa.url, await kassa.issueKey('ministry-of-finance', ['treasury:read']));
    const pensionsAdmin = apiClient(kassa.url, await kassa.issueKey('pensions-agency', ['admin']));
    const maker = apiClient(kassa.url, await kassa.issueKey('pensions-agency', ['benefits:write', 'orders:read']));
    const checker = apiClient(kassa.url, await kassa.issueKey('pensions-agency', ['benefits:approve', 'orders:read']));
    pensionsReader = apiClient(kassa.url, await kassa.issueKey('pensions-agency', ['orders:read']));
    const cashier = apiClient(kassa.url, await kassa.issueKey('lands-registry', ['fees:write', 'orders:read']));
    pensionsId = await organisationIdOf(db(), 'pensions-agency');
    landsId = await organisationIdOf(db(), 'lands-registry');

    // Pensions: a program; a batch of 30 paid and 2 to a closed account; a batch approved for later; one payment outside the program.
    const program = await pensionsAdmin.post('/v1/programs', { code: 'CHILD', name: 'Child grant', currency: 'KES', funding_account: FUNDING, budget: '1000.00', approval_threshold: '0' }, randomUUID());
    assert.equal(program.status, 201, JSON.stringify(program.body));
    programId = program.body.id;
    const payment = (index: number, amount: string, payee = `+2547123${String(index).padStart(5, '3')}`) =>
      ({ instruction_id: `DAY-${index}`, payee: { type: 'msisdn', value: payee, institution: 'MPESA' }, amount, currency: 'KES' });
    const paid = await maker.post('/v1/batches', {
      program: 'CHILD', control: { count: 32, totals: { KES: '160.00' } },
      payments: [...Array.from({ length: 30 }, (_, index) => payment(index, '5.00')), payment(901, '5.00', CLOSED_ACCOUNT), payment(902, '5.00', CLOSED_ACCOUNT)],
    }, randomUUID());
    const later = await maker.post('/v1/batches', {
      program: 'CHILD', execute_at: new Date(Date.now() + 2 * DAY).toISOString(), control: { count: 3, totals: { KES: '21.00' } },
      payments: [payment(951, '7.00'), payment(952, '7.00'), payment(953, '7.00')],
    }, randomUUID());
    assert.equal(paid.status, 202, JSON.stringify(paid.body));
    assert.equal(later.status, 202, JSON.stringify(later.body));
    scheduledBatchId = later.body.id;
    for (const batchId of [paid.body.id, later.body.id]) {
      await eventually(async () => ((await maker.get(`/v1/batches/${batchId}`)).body.status === 'awaiting_approval' ? true : undefined), { what: 'the batch to await approval' });
      assert.equal((await checker.post(`/v1/batches/${batchId}/approve`, undefined, randomUUID())).status, 200);
    }
    const direct = await maker.post('/v1/orders', {
      kind: 'benefit', amount: '12.34', currency: 'KES', payer: FUNDING, payee: { type: 'msisdn', value: '+254712355555', institution: 'MPESA' }, reference: 'hardship grant',
    }, randomUUID());
    assert.equal(direct.status, 201, JSON.stringify(direct.body));

    // Lands registry: fees in two currencies, one of them with a rail fee reported with its completion.
    const fee = async (amount: string, currency: string, payer: Record<string, string>) => {
      const created = await cashier.post('/v1/orders', { kind: 'fee', amount, currency, payer, payee: FUNDING, reference: `title deed fee ${amount}` }, randomUUID());
      assert.equal(created.status, 201, JSON.stringify(created.body));
      return created.body.id as string;
    };
    const deedFee = await fee('40.25', 'KES', { type: 'msisdn', value: '+254711000111', institution: 'MPESA' });
    const refundedFee = await fee('10.00', 'KES', { type: 'msisdn', value: '+254711000222', institution: 'MPESA' });
    const euroFee = await fee('15.00', 'EUR', { type: 'iban', value: 'DE89370400440532013000', institution: 'BANKDEFF' });
    const [cardFee] = await seedOrders(db(), [{ organisationId: landsId, railKey: `CARD${randomUUID().replaceAll('-', '').slice(0, 20)}`, status: 'submitted', kind: 'fee', amountMinor: 2000n, currency: 'EUR' }]);
    await transitionOrders(db(), 'completed', [{ id: cardFee!.id, railReference: 'CARD-1', railFee: { minor: 30n, currency: 'EUR' } }]);
    const cardCompletion = await db()('order_events').where({ order_id: cardFee!.id, to_status: 'completed' }).first();
    railFees.push({ organisationId: landsId, rail: 'sandbox', currency: 'EUR', minor: 30n, at: cardCompletion.created_at });

    // Around the day's bounds, written with their moments: the last instant of the day before, the first of the day, the first of the next.
    const justBefore = await writeCompletionAt(db(), { at: new Date(from.getTime() - 1), organisationId: landsId, kind: 'fee', amount: { minor: 300n, currency: 'KES' }, rail: 'sandbox', institution: 'MPESA' });
    await writeCompletionAt(db(), { at: new Date(from.getTime() - HOUR), organisationId: pensionsId, kind: 'benefit', amount: { minor: 400n, currency: 'KES' }, rail: 'sandbox', institution: 'MPESA' });
    const atStart = await writeCompletionAt(db(), { at: from, organisationId: landsId, kind: 'fee', amount: { minor: 100n, currency: 'KES' }, rail: 'sandbox', institution: 'MPESA' });
    await writeCompletionAt(db(), { at: today.to, organisationId: landsId, kind: 'fee', amount: { minor: 200n, currency: 'KES' }, rail: 'sandbox', institution: 'MPESA' });
    // Exceptions from days before: one still open, one resolved during the day.
    await openExceptionAt(db(), { at: new Date(from.getTime() - 3 * DAY + HOUR), organisationId: pensionsId, type: 'amount_mismatch', amount: { minor: 100n, currency: 'KES' }, source: 'sandbox' });
    const resolvedToday = await openExceptionAt(db(), { at: new Date(from.getTime() - 2 * DAY + HOUR), organisationId: landsId, type: 'missing_on_statement', amount: { minor: 250n, currency: 'KES' }, source: 'sandbox' });

    for (const id of [deedFee, refundedFee, euroFee]) await orderReaching(cashier, id, 'completed');
    await orderReaching(maker, direct.body.id, 'completed');
    await eventually(async () => ((await maker.get(`/v1/batches/${paid.body.id}`)).body.status === 'completed' ? true : undefined), { what: 'the batch to complete', timeoutMs: 60_000 });
    const keyOf = async (id: string) => (await db()('orders').where({ id }).first()).rail_key as string;
    const paidKeys = ((await db()('orders').where({ batch_id: paid.body.id, status: 'completed' }).orderBy('rail_key').select('rail_key')) as { rail_key: string }[]).map((row) => row.rail_key);
    assert.equal(paidKeys.length, 30);

    // The statements: an intraday one, then the day's, which shows its bookings again, a bulk booking for the
    // batch, a payment and a fee that came back, a booking of the day before and one no order explains.
    const header = 'booking_date,direction,amount,currency,end_to_end_id,rail_reference,reversal,reason_code,batch_end_to_end_ids,batch_count';
    const feeLines = [`${date},credit,40.25,KES,${await keyOf(deedFee)},BOOK-FEE-1,false,,,`, `${date},credit,10.00,KES,${await keyOf(refundedFee)},BOOK-FEE-2,false,,,`];
    const intraday = [header, ...feeLines].join('\n');
    const endOfDay = [
      header,
      `${shiftDate(date, -1)},credit,3.00,KES,${justBefore.railKey},BOOK-PREV-1,false,,,`,
      ...feeLines,
      `${date},credit,1.00,KES,${atStart.railKey},BOOK-FEE-3,false,,,`,
      `${date},credit,15.00,EUR,${await keyOf(euroFee)},BOOK-EUR-1,false,,,`,
      `${date},credit,20.00,EUR,${cardFee!.railKey},BOOK-EUR-2,false,,,`,
      `${date},debit,150.00,KES,,BOOK-BULK-1,false,,${paidKeys.join(' ')},30`,
      `${date},debit,12.34,KES,${await keyOf(direct.body.id)},BOOK-DIRECT-1,false,,,`,
      `${date},credit,5.00,KES,${paidKeys[0]},BOOK-RETURN-1,true,AC04,,`,
      `${date},debit,10.00,KES,${await keyOf(refundedFee)},BOOK-REFUND-1,true,MD06,,`,
      `${date},debit,7.77,KES,,X-UNKNOWN-1,false,,,`,
    ].join('\n');
    for (const file of [intraday, endOfDay]) {
      const imported = await admin.call('POST', '/v1/statements?rail=sandbox', { rawBody: file, headers: { 'content-type': 'text/csv' } });
      assert.equal(imported.status, 201, JSON.stringify(imported.body));
    }
    await eventually(async () => ((await db()('orders').whereIn('rail_key', [paidKeys[0]!, await keyOf(refundedFee)]).where({ status: 'returned' })).length === 2 ? true : undefined), { what: 'the returns' });

    // Reported once however often it is seen: the same file again, the statement reconciled again.
    const again = await admin.call('POST', '/v1/statements?rail=sandbox', { rawBody: endOfDay, headers: { 'content-type': 'text/csv' } });
    assert.equal(again.status, 200);
    const statementId = again.body.statement.id as string;
    assert.equal((await admin.post('/v1/reconciliation/runs', { statement_id: statementId }, randomUUID())).status, 201);
    // The refund is looked into and resolved the same day, and so is the older exception.
    const refundException = await db()('reconciliation_exceptions').where({ type: 'returned', order_id: refundedFee }).first();
    for (const id of [refundException.id as string, resolvedToday]) {
      assert.equal((await admin.post(`/v1/reconciliation/exceptions/${id}/resolve`, { reason: 'looked into with the bank' }, randomUUID())).status, 200);
    }
  });
  after(async () => {
    await kassa?.stop();
  });

  it('when the day is reported, then every position ties out with the orders and events of the day, and closing = opening + movements', async () => {
    const report = await reportOf(treasury, today.date);

    assert.equal(report.time_zone, kassa.config.REPORT_TIMEZONE);
    assert.notEqual(report.time_zone, 'UTC');
    assert.deepEqual([report.from, report.to], [today.from.toISOString(), today.to.toISOString()]);
    assertPositionsTieOut(report, await recomputePositions(db(), today, railFees));
    assertClosingIsOpeningPlusMovements(report);

    const landsKes = positionOf(report, landsId, null, 'KES');
    assert.deepEqual([landsKes.opening_balance, landsKes.collected, landsKes.collected_orders, landsKes.returned_fees, landsKes.returned_fees_orders, landsKes.closing_balance],
      ['3.00', '51.25', 3, '10.00', 1, '44.25'], 'the fee booked at the first instant of the day is in it; the one at its end is not');
    const landsEur = positionOf(report, landsId, null, 'EUR');
    assert.deepEqual([landsEur.collected, landsEur.collected_orders, landsEur.fees, landsEur.fees_orders, landsEur.closing_balance], ['35.00', 2, '0.30', 1, '34.70']);
    const direct = positionOf(report, pensionsId, null, 'KES');
    assert.deepEqual([direct.opening_balance, direct.disbursed, direct.disbursed_orders, direct.closing_balance, direct.budget], ['-4.00', '12.34', 1, '-16.34', null]);
    const child = positionOf(report, pensionsId, programId, 'KES');
    assert.deepEqual([child.program_code, child.disbursed, child.disbursed_orders, child.returned_benefits, child.returned_benefits_orders, child.closing_balance],
      ['CHILD', '150.00', 30, '5.00', 1, '-145.00']);
  });

  it('when the days around it are reported, then a journal booked before the day is in the day before and one at its end in the next, and each day opens where the last closed', async () => {
    const [before, day, after] = [await reportOf(treasury, shiftDate(today.date, -1)), await reportOf(treasury, today.date), await reportOf(treasury, shiftDate(today.date, 1))];

    assert.deepEqual([positionOf(before, landsId, null, 'KES').collected, positionOf(before, landsId, null, 'KES').collected_orders], ['3.00', 1]);
    assert.deepEqual([positionOf(before, pensionsId, null, 'KES').disbursed, positionOf(before, pensionsId, null, 'KES').closing_balance], ['4.00', '-4.00']);
    assert.deepEqual([positionOf(after, landsId, null, 'KES').opening_balance, positionOf(after, landsId, null, 'KES').collected, positionOf(after, landsId, null, 'KES').collected_orders], ['44.25', '2.00', 1]);
    for (const [earlier, later] of [[before, day], [day, after]] as const) {
      assertPositionsTieOut(earlier, await recomputePositions(db(), windowOf(earlier.date), railFees));
      for (const position of earlier.positions) {
        assert.equal(positionOf(later, position.organisation_id, position.program_id, position.currency).opening_balance_minor, position.closing_balance_minor);
      }
      for (const rail of earlier.settlement) {
        for (const account of rail.accounts) {
          const next = later.settlement.find((candidate) => candidate.rail === rail.rail && candidate.currency === rail.currency)!.accounts.find((candidate) => candidate.account === account.account)!;
          assert.equal(next.opening_balance_minor, account.closing_balance_minor, account.account);
        }
      }
    }
  });

  it("when a program is reported, then its budget, blocked and available funds agree with the programs table and the batches", async () => {
    const child = positionOf(await reportOf(treasury, today.date), pensionsId, programId, 'KES');
    const program = await db()('programs').where({ id: programId }).first();
    const spent = BigInt((await db().raw(`SELECT COALESCE(sum(o.amount_minor), 0)::text AS total FROM orders o JOIN batches b ON b.id = o.batch_id WHERE b.program_id = ? AND o.status = 'completed'`, [programId])).rows[0].total);
    const scheduled = BigInt((await db()('batches').where({ id: scheduledBatchId, status: 'scheduled' }).first()).valid_total_minor);

    assert.deepEqual([child.budget, child.blocked, child.available], ['1000.00', '21.00', '834.00']);
    assert.equal(BigInt(child.budget_minor!), BigInt(program.budget_minor));
    assert.equal(BigInt(child.blocked_minor!), scheduled);
    assert.equal(BigInt(child.blocked_minor!), BigInt(program.reserved_minor));
    assert.equal(BigInt(child.available_minor!), BigInt(program.budget_minor) - spent - scheduled);
    assert.equal(BigInt(child.available_minor!), BigInt(program.budget_minor) - BigInt(program.reserved_minor) - BigInt(program.disbursed_minor));
  });

  it('when the settlement positions are reported, then they match the statement lines booked that day, each booking once, and the ledger’s day through each rail', async () => {
    const report = await reportOf(treasury, today.date);

    assertRailsTieOut(report, await recomputeRails(db(), today, railFees));
    const kes = report.settlement.find((rail) => rail.rail === 'sandbox' && rail.currency === 'KES')!;
    assert.deepEqual([kes.statement.lines, kes.statement.credits, kes.statement.debits, kes.ledger_net_out, kes.difference], [8, '56.25', '180.11', '116.09', '7.77'],
      'the fees shown by both statements count once; the line no order explains is the difference');
    assert.deepEqual(kes.accounts.map((account) => [account.account, account.institution]), [['clearing:sandbox:MPESA', 'MPESA']]);
    const eur = report.settlement.find((rail) => rail.rail === 'sandbox' && rail.currency === 'EUR')!;
    assert.deepEqual([eur.statement.lines, eur.ledger_net_out, eur.difference], [2, '-34.70', '-0.30'], 'the rail fee is on no statement');
    assert.deepEqual(eur.accounts.map((account) => [account.account, account.institution]), [['clearing:sandbox', null], ['clearing:sandbox:BANKDEFF', 'BANKDEFF']]);
  });

  it("when an agency reports the day, then it sees its own positions, clearing accounts and the bookings of its own payments", async () => {
    const report = await reportOf(pensionsReader, today.date);

    assert.equal(report.organisation_id, pensionsId);
    assert.ok(report.positions.length > 0 && report.positions.every((position) => position.organisation_id === pensionsId));
    assertPositionsTieOut(report, await recomputePositions(db(), today, railFees, pensionsId));
    assertRailsTieOut(report, await recomputeRails(db(), today, railFees, pensionsId));
    const kes = report.settlement.find((rail) => rail.currency === 'KES')!;
    assert.deepEqual([kes.statement.lines, kes.statement.debits, kes.statement.credits, kes.difference], [3, '162.34', '5.00', '0.00'], 'its share of the bulk booking, its payment and its return');
    assert.deepEqual(report.settlement.map((rail) => rail.currency), ['KES'], 'the fees in euros are another organisation’s');
    assert.deepEqual(report.exceptions.map((group) => group.type), ['amount_mismatch', 'returned'], 'the line no order explains is not the agency’s');
  });

  it('when exceptions are reported, then those open at the end of the day are counted once, with the oldest one’s age', async () => {
    const [day, before] = [await reportOf(treasury, today.date), await reportOf(treasury, shiftDate(today.date, -1))];

    assert.deepEqual(withoutAmounts(day.exceptions), bySeverityAndType(await recomputeExceptions(db(), today)));
    assert.deepEqual(day.exceptions.map((group) => [group.severity, group.type, group.currency, group.count, group.amount, group.oldest_age_days]), [
      ['high', 'amount_mismatch', 'KES', 1, '1.00', 3],
      ['medium', 'unexpected_on_statement', 'KES', 1, '7.77', 0],
      ['low', 'returned', 'KES', 1, '5.00', 0],
    ], 'the refund resolved the same day is not open at its end');
    assert.deepEqual(withoutAmounts(before.exceptions), bySeverityAndType(await recomputeExceptions(db(), windowOf(before.date))));
    assert.deepEqual(before.exceptions.map((group) => [group.type, group.oldest_age_days]), [['amount_mismatch', 2], ['missing_on_statement', 1]],
      'what was resolved today was still open yesterday; what was found today was not');
  });

  it('when the same day is counted in UTC, then PostgreSQL moves the bounds and the report still ties out; a day when clocks change is 23 or 25 hours', async () => {
    const treasuryCaller: Caller = { clientId: randomUUID(), clientName: 'treasury', organisationId: pensionsId, scopes: ['treasury:read'] };
    const inZone = (zone: string, date: string) => dailyReport({ db: db(), config: { ...kassa.config, REPORT_TIMEZONE: zone } }, treasuryCaller, { date, organisationId: null });

    const utc = presentDailyReport(await inZone('UTC', today.date));
    const utcDay = { date: today.date, from: new Date(`${today.date}T00:00:00Z`), to: new Date(Date.parse(`${today.date}T00:00:00Z`) + DAY) };
    assert.deepEqual([utc.from, utc.to], [utcDay.from.toISOString(), utcDay.to.toISOString()]);
    assert.notEqual(utc.from, today.from.toISOString());
    assertPositionsTieOut(utc, await recomputePositions(db(), utcDay, railFees));
    assertRailsTieOut(utc, await recomputeRails(db(), utcDay, railFees));
    assertClosingIsOpeningPlusMovements(utc);

    const spring = await inZone('Europe/Paris', '2026-03-29');
    const autumn = await inZone('Europe/Paris', '2026-10-25');
    assert.deepEqual([spring.from.toISOString(), spring.to.getTime() - spring.from.getTime()], ['2026-03-28T23:00:00.000Z', 23 * HOUR]);
    assert.deepEqual([autumn.from.toISOString(), autumn.to.getTime() - autumn.from.getTime()], ['2026-10-24T22:00:00.000Z', 25 * HOUR]);
  });
});
