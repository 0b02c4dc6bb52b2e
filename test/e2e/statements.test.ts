import assert from 'node:assert/strict';
import { assertSchemaValid, fixture } from '../fixtures/iso20022/support.ts';
import { apiClient } from '../support/http.ts';
import { startTestKassa, type TestKassa } from '../support/kassa.ts';
import { organisationIdOf, seedOrders } from '../support/seed-orders.ts';
import { assertProblem, rowCounts } from './helpers.ts';

const STATEMENT_TABLES = ['statements', 'statement_lines', 'statement_line_payments', 'reconciliation_runs', 'reconciliation_exceptions', 'audit_log'] as const;
const CSV_HEADER = 'booking_date,value_date,direction,amount,currency,end_to_end_id,rail_reference,counterparty,counterparty_account,reversal,reason_code,batch_end_to_end_ids';

describe('statement import over HTTP', function () {
  this.timeout(120_000);
  let kassa: TestKassa;
  let admin: ReturnType<typeof apiClient>;
  let treasury: ReturnType<typeof apiClient>;
  let agency: ReturnType<typeof apiClient>;

  before(async () => {
    kassa = await startTestKassa({ backend: 'postgres', workers: false, env: { RECON_MISSING_AFTER_DAYS: '0' } });
    admin = apiClient(kassa.url, await kassa.issueKey('ministry-of-finance', ['admin', 'treasury:write']));
    treasury = apiClient(kassa.url, await kassa.issueKey('ministry-of-finance', ['treasury:read']));
    agency = apiClient(kassa.url, await kassa.issueKey('pensions-agency', ['benefits:write', 'orders:read']));
  });
  after(async () => {
    await kassa?.stop();
  });

  const db = () => kassa.runtime.context.db;
  const upload = (client: ReturnType<typeof apiClient>, body: string, query = 'rail=sandbox', contentType = 'application/octet-stream') =>
    client.call('POST', `/v1/statements?${query}`, { rawBody: body, headers: { 'content-type': contentType } });

  async function assertRefusedLeavingNothing(body: string, field: string, reason: RegExp): Promise<void> {
    const before = await rowCounts(db(), STATEMENT_TABLES);
    const answer = await upload(admin, body);
    assertProblem(answer, 422, 'validation_failed');
    assert.deepEqual(answer.body.errors.map((error: { field: string }) => error.field), [field], JSON.stringify(answer.body));
    assert.match(answer.body.errors[0].reason, reason);
    assert.deepEqual(await rowCounts(db(), STATEMENT_TABLES), before, 'a refused statement leaves nothing behind');
  }

  it('when a camt.053 with two statements is imported, then every booked entry is a line, a batch keeps its end-to-end ids and names keep their letters', async () => {
    assertSchemaValid('camt.053.001.08.xsd', { 'camt053-two-statements': fixture('camt053-two-statements.xml') });
    const answer = await upload(admin, fixture('camt053-two-statements.xml'), 'rail=sandbox&reconcile=false', 'application/xml');

    assert.equal(answer.status, 201, JSON.stringify(answer.body));
    assert.equal(answer.body.duplicate, false);
    assert.equal(answer.body.run, null);
    const statement = answer.body.statement;
    assert.equal(statement.format, 'camt.053');
    assert.equal(statement.statement_ref, 'STMT-20240315-0001');
    assert.equal(statement.lines, 5);
    assert.deepEqual(statement.period, { from: '2024-03-15', to: '2024-03-16' });
    assert.deepEqual(statement.reports.map((report: { id: string; currency: string; opening_balance_minor: string; closing_balance_minor: string }) => [report.id, report.currency, report.opening_balance_minor, report.closing_balance_minor]), [
      ['S20240315-EUR-001', 'EUR', '100000000', '100383245'],
      ['S20240316-KES-001', 'KES', '50000', '-100000'],
    ]);
    const lines = await db()('statement_lines').where({ statement_id: statement.id }).orderBy('line_number');
    assert.deepEqual(lines.map((line) => [line.line_number, line.amount_minor, line.direction, line.reversal, line.rail_key, line.batch_count, line.counterparty]), [
      [1, '120555', 'debit', false, null, 3, null],
      [2, '4200', 'debit', false, 'E2E0004', null, 'Παναγιώτης Ιωάννου'],
      [3, '8000', 'credit', true, 'E2E0002', null, 'Jürgen Groß'],
      [4, '500000', 'credit', false, null, null, 'Ministère des Finances'],
      [5, '150000', 'debit', false, 'E2E0005', null, 'Wanjikũ Njoroge'],
    ]);
    const payments = await db()('statement_line_payments').where({ statement_id: statement.id }).orderBy('position');
    assert.deepEqual(payments.map((payment) => [payment.line_number, payment.position, payment.rail_key]), [[1, 1, 'E2E0001'], [1, 2, 'E2E0002'], [1, 3, 'E2E0003']]);
    assert.equal(lines[2].reason_code, 'AC04');
  });

  it('when the same file is imported again, then the answer is the earlier statement and nothing is stored or counted twice', async () => {
    const first = await upload(admin, fixture('camt053-two-statements.xml'), 'rail=sandbox');
    const before = await rowCounts(db(), STATEMENT_TABLES);

    const again = await upload(admin, fixture('camt053-two-statements.xml'), 'rail=sandbox');

    assert.equal(again.status, 200, JSON.stringify(again.body));
    assert.equal(again.body.duplicate, true);
    assert.equal(again.body.statement.id, first.body.statement.id);
    assert.equal(again.body.run, null);
    assert.deepEqual(await rowCounts(db(), STATEMENT_TABLES), before);
  });

  it('when a camt.054 notification is imported, then only its booked entries become lines', async () => {
    assertSchemaValid('camt.054.001.08.xsd', { 'camt054-notification': fixture('camt054-notification.xml') });
    const answer = await upload(admin, fixture('camt054-notification.xml'), 'rail=sandbox&reconcile=false', 'application/xml');

    assert.equal(answer.status, 201, JSON.stringify(answer.body));
    assert.equal(answer.body.statement.format, 'camt.054');
    const lines = await db()('statement_lines').where({ statement_id: answer.body.statement.id }).orderBy('line_number');
    assert.ok(lines.length >= 3, `booked entries: ${lines.length}`);
    assert.ok(lines.every((line) => line.rail_reference !== ''), 'every line has a reference');
    const returned = lines.find((line) => line.reversal);
    assert.deepEqual([returned?.rail_key, returned?.reason_code, returned?.direction], ['E2E0007', 'MD07', 'credit']);
  });

  it('when an MT940 file with two statements is imported, then its lines carry the reversal mark, the batch count and the end-to-end ids', async () => {
    const answer = await upload(admin, fixture('mt940-two-statements.sta'), 'rail=sandbox&reconcile=false', 'text/plain');

    assert.equal(answer.status, 201, JSON.stringify(answer.body));
    assert.equal(answer.body.statement.format, 'mt940');
    assert.equal(answer.body.statement.lines, 6);
    const lines = await db()('statement_lines').where({ statement_id: answer.body.statement.id }).orderBy('line_number');
    assert.deepEqual(lines.map((line) => [line.currency, line.direction, line.reversal, line.rail_key, line.batch_count, line.rail_reference]), [
      ['EUR', 'debit', false, null, 3, '2024031500017788'],
      ['EUR', 'debit', false, 'E2E0004', null, 'TX-0004'],
      ['EUR', 'credit', true, 'E2E0002', null, 'RT-0002'],
      ['EUR', 'credit', false, null, null, '2024031500017801'],
      ['EUR', 'debit', true, null, null, 'CORR-1'],
      ['JPY', 'credit', false, 'E2E0011', null, 'JP-1'],
    ]);
    assert.equal(lines[2].counterparty, 'Jürgen Groß');
  });

  it('when a statement CSV is imported, then its lines are matched by reference and a bulk line by the ids it lists', async () => {
    const organisationId = await organisationIdOf(db(), 'pensions-agency');
    await seedOrders(db(), [
      { organisationId, railKey: 'CSV0001', amountMinor: 12550n },
      { organisationId, railKey: 'CSV0002', amountMinor: 1000n },
      { organisationId, railKey: 'CSV0003', amountMinor: 2000n },
    ]);
    const csv = [
      CSV_HEADER,
      '2026-11-20,2026-11-20,debit,125.50,EUR,CSV0001,REF-1,Zoë\u001fÑandú,ES9121000418450200051332,false,,',
      '2026-11-20,,DBIT,30.00,EUR,,REF-2,,,,,CSV0002 CSV0003',
    ].join('\n');

    const answer = await upload(admin, `${csv}\n`, 'rail=sandbox', 'text/csv');

    assert.equal(answer.status, 201, JSON.stringify(answer.body));
    assert.equal(answer.body.statement.format, 'csv');
    assert.equal(answer.body.run.lines, 2);
    assert.equal(answer.body.run.matched, 2, JSON.stringify(answer.body.run));
    assert.equal(answer.body.run.exceptions, 0);
    const stored = await db()('statement_lines').where({ statement_id: answer.body.statement.id }).orderBy('line_number');
    assert.deepEqual(stored.map((line) => [line.rail_key, line.counterparty, line.counterparty_account, line.batch_count]), [
      ['CSV0001', 'Zoë Ñandú', 'ES9121000418450200051332', null], // a control character in a value is stored as a space
      [null, null, null, 2],
    ]);
  });

  it('when a statement shows payments Kassa waits for, one also returned, and one without a reference, then they are completed, returned and matched', async () => {
    const organisationId = await organisationIdOf(db(), 'pensions-agency');
    const [unknown, submitted, unreferenced] = await seedOrders(db(), [
      { organisationId, railKey: 'WAIT0001', status: 'unknown', amountMinor: 1500n },
      { organisationId, railKey: 'WAIT0002', status: 'submitted', amountMinor: 2500n },
      { organisationId, railKey: 'NOREF0001', status: 'completed', amountMinor: 3300n, account: 'DE44500105175407324931' },
    ]);
    const today = new Date().toISOString().slice(0, 10);
    const csv = [
      'booking_date,direction,amount,currency,end_to_end_id,rail_reference,counterparty_account,reversal,reason_code',
      `${today},debit,15.00,EUR,WAIT0001,W-1,,,`,
      `${today},debit,25.00,EUR,WAIT0002,W-2,,,`,
      `${today},credit,25.00,EUR,WAIT0002,W-2R,,true,MD07`,
      `${today},debit,33.00,EUR,,N-1,DE44 5001 0517 5407 3249 31,,`,
    ].join('\n');

    const answer = await upload(admin, csv, 'rail=sandbox', 'text/csv');

    assert.equal(answer.status, 201, JSON.stringify(answer.body));
    assert.deepEqual([answer.body.run.confirmed, answer.body.run.returned, answer.body.run.exceptions_by_type], [2, 1, { returned: 1 }]);
    const orders = await db()('orders').whereIn('id', [unknown!.id, submitted!.id, unreferenced!.id]).select('id', 'status', 'rail_reference', 'failure_code');
    const byId = new Map(orders.map((order) => [order.id, order]));
    assert.deepEqual([byId.get(unknown!.id).status, byId.get(unknown!.id).rail_reference], ['completed', 'W-1']);
    assert.deepEqual([byId.get(submitted!.id).status, byId.get(submitted!.id).failure_code], ['returned', 'MD07']);
    const events = await db()('order_events').where({ order_id: submitted!.id }).orderBy('id');
    assert.deepEqual(events.map((event) => [event.from_status, event.to_status]), [['submitted', 'completed'], ['completed', 'returned']]);
    const line = await db()('statement_lines').where({ statement_id: answer.body.statement.id, rail_reference: 'N-1' }).first();
    assert.deepEqual([line.order_id, line.match_method], [unreferenced!.id, 'amount_date_counterparty']);
  });

  it('when a file is malformed, then the answer names the line or the element and nothing is stored', async () => {
    await assertRefusedLeavingNothing(fixture('camt053-not-well-formed.xml'), 'file line 13', /malformed XML at line 13/);
    await assertRefusedLeavingNothing(fixture('mt940-bad-amount.sta'), 'file line 5', /MT940 line 5: :61:/);
    await assertRefusedLeavingNothing(
      fixture('camt053-two-statements.xml').replace('<Amt Ccy="KES">1500.00</Amt>', '<Amt Ccy="KES">1500,00</Amt>'),
      'file element BkToCstmrStmt/Stmt[2]/Ntry/Amt',
      /"1500,00" is not a decimal amount/,
    );
    await assertRefusedLeavingNothing(`${CSV_HEADER}\n2026-11-20,,debit,1.00,EUR,A1,R1,,,,,\n2026-11-20,,debit,12.345,EUR,A2,R2,,,,,\n`, 'file line 3', /EUR has 2 decimal places/);
    await assertRefusedLeavingNothing(`${CSV_HEADER}\n2026-11-31,,debit,1.00,EUR,A1,R1,,,,,\n`, 'file line 2', /booking_date "2026-11-31" is not a date/);
    await assertRefusedLeavingNothing('date,amount\n2026-11-20,1.00\n', 'file line 1', /missing: booking_date, direction, currency, rail_reference; unknown: date/);
    await assertRefusedLeavingNothing(fixture('pain002-mixed.xml'), 'file', /must be a camt\.053 or camt\.054 Document/);
  });

  it('when a credential is not an administrator, then it cannot import, and only treasury reads statements', async () => {
    assertProblem(await upload(treasury, `${CSV_HEADER}\n`), 403, 'insufficient_scope');
    assertProblem(await upload(agency, `${CSV_HEADER}\n`), 403, 'insufficient_scope');
    assertProblem(await agency.get('/v1/statements'), 403, 'insufficient_scope');
    const listed = await treasury.get('/v1/statements?limit=2');
    assert.equal(listed.status, 200);
    assert.equal(listed.body.data.length, 2);
    assert.equal(typeof listed.body.next_cursor, 'string');
    const next = await treasury.get(`/v1/statements?limit=2&cursor=${listed.body.next_cursor}`);
    assert.ok(next.body.data.every((statement: { id: string }) => !listed.body.data.some((seen: { id: string }) => seen.id === statement.id)));
  });
});
