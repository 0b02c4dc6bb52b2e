import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { apiClient } from '../support/http.ts';
import { kassaCommand } from '../support/kassa-command.ts';
import { orderReaching, startTestKassa, type TestKassa } from '../support/kassa.ts';
import { organisationIdOf } from '../support/seed-orders.ts';
import { assertInvalidFields, assertProblem, feeOrder } from './helpers.ts';

type Api = ReturnType<typeof apiClient>;

describe('the daily report over HTTP and from the CLI', function () {
  this.timeout(120_000);
  let kassa: TestKassa;
  let treasury: Api;
  let landsReader: Api;
  let writerOnly: Api;
  let landsId: string;
  let transportId: string;
  let treasuryKey: string;
  let landsKey: string;
  let date: string;
  let directory: string;

  before(async () => {
    kassa = await startTestKassa({ backend: 'postgres' });
    treasuryKey = await kassa.issueKey('ministry-of-finance', ['treasury:read']);
    landsKey = await kassa.issueKey('lands-registry', ['orders:read']);
    treasury = apiClient(kassa.url, treasuryKey);
    landsReader = apiClient(kassa.url, landsKey);
    writerOnly = apiClient(kassa.url, await kassa.issueKey('lands-registry', ['fees:write']));
    const transport = apiClient(kassa.url, await kassa.issueKey('transport-agency', ['fees:write', 'orders:read']));
    landsId = await organisationIdOf(kassa.runtime.context.db, 'lands-registry');
    transportId = await organisationIdOf(kassa.runtime.context.db, 'transport-agency');
    directory = await mkdtemp(join(tmpdir(), 'kassa-reports-'));

    const deedFee = await writerOnly.post('/v1/orders', feeOrder({ amount: '40.25', payer: { type: 'msisdn', value: '+254711000222', institution: 'MPESA' } }), randomUUID());
    const licenceFee = await transport.post('/v1/orders', feeOrder({ amount: '7.50', payer: { type: 'msisdn', value: '+254711000333', institution: 'MPESA' } }), randomUUID());
    assert.equal(deedFee.status, 201, JSON.stringify(deedFee.body));
    assert.equal(licenceFee.status, 201, JSON.stringify(licenceFee.body));
    await orderReaching(landsReader, deedFee.body.id, 'completed');
    await orderReaching(transport, licenceFee.body.id, 'completed');
    // The day (UTC, the default REPORT_TIMEZONE) the deed fee was collected on.
    const completion = await kassa.runtime.context.db('order_events').where({ order_id: deedFee.body.id, to_status: 'completed' }).first();
    date = (completion.created_at as Date).toISOString().slice(0, 10);
  });
  after(async () => {
    await kassa?.stop();
    if (directory) await rm(directory, { recursive: true, force: true });
  });

  const landsRow = (positions: { organisation_id: string; currency: string }[]) => positions.find((position) => position.organisation_id === landsId && position.currency === 'KES');

  it('when treasury asks for the day as JSON, then every organisation is in it with its fees, clearing accounts and statements', async () => {
    const answer = await treasury.get(`/v1/reports/daily?date=${date}`);

    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    assert.match(answer.contentType, /^application\/json/);
    assert.deepEqual([answer.body.date, answer.body.time_zone, answer.body.from, answer.body.organisation_id], [date, 'UTC', `${date}T00:00:00.000Z`, null]);
    assert.deepEqual(new Set(answer.body.positions.map((position: { organisation: string }) => position.organisation)), new Set(['lands-registry', 'transport-agency']));
    const lands = landsRow(answer.body.positions);
    assert.deepEqual(lands, {
      organisation_id: landsId, organisation: 'lands-registry', program_id: null, program_code: null, currency: 'KES',
      opening_balance: '0.00', opening_balance_minor: '0',
      collected: '40.25', collected_minor: '4025', collected_orders: 1,
      returned_fees: '0.00', returned_fees_minor: '0', returned_fees_orders: 0,
      disbursed: '0.00', disbursed_minor: '0', disbursed_orders: 0,
      returned_benefits: '0.00', returned_benefits_minor: '0', returned_benefits_orders: 0,
      fees: '0.00', fees_minor: '0', fees_orders: 0,
      closing_balance: '40.25', closing_balance_minor: '4025',
      budget: null, budget_minor: null, blocked: null, blocked_minor: null, available: null, available_minor: null,
    });
    const [sandbox] = answer.body.settlement;
    assert.deepEqual([sandbox.rail, sandbox.currency, sandbox.ledger_net_out, sandbox.statement.lines, sandbox.difference], ['sandbox', 'KES', '-47.75', 0, '47.75']);
    assert.deepEqual(sandbox.accounts.map((account: { account: string; debits: string; closing_balance: string }) => [account.account, account.debits, account.closing_balance]), [['clearing:sandbox:MPESA', '47.75', '47.75']]);
    assert.deepEqual(answer.body.exceptions, []);
  });

  it('when the day is asked for as CSV, by format or by Accept, then the same report comes flat with a section column', async () => {
    const byFormat = await treasury.get(`/v1/reports/daily?date=${date}&format=csv`);
    const byAccept = await treasury.get(`/v1/reports/daily?date=${date}`, { accept: 'text/csv' });

    assert.equal(byFormat.status, 200);
    assert.match(byFormat.contentType, /^text\/csv/);
    assert.equal(byFormat.headers.get('content-disposition'), `attachment; filename="kassa-daily-${date}.csv"`);
    assert.equal(byAccept.body, byFormat.body);
    const rows = parse(byFormat.body as string, { columns: true }) as Record<string, string>[];
    assert.deepEqual(rows.map((row) => row.section), ['position', 'position', 'settlement_account', 'settlement_rail']);
    const lands = rows.find((row) => row.organisation === 'lands-registry')!;
    assert.deepEqual([lands.date, lands.currency, lands.opening_balance, lands.collected, lands.collected_orders, lands.closing_balance, lands.budget], [date, 'KES', '0.00', '40.25', '1', '40.25', '']);
    const rail = rows.find((row) => row.section === 'settlement_rail')!;
    assert.deepEqual([rail.rail, rail.ledger_net_out, rail.statement_lines, rail.difference], ['sandbox', '-47.75', '0', '47.75']);
  });

  it('when an agency asks for the day, then it sees its own organisation only, and another organisation does not exist for it', async () => {
    const own = await landsReader.get(`/v1/reports/daily?date=${date}`);
    const ownByName = await landsReader.get(`/v1/reports/daily?date=${date}&organisation_id=${landsId}`);

    assert.equal(own.status, 200, JSON.stringify(own.body));
    assert.equal(own.body.organisation_id, landsId);
    assert.deepEqual(own.body.positions.map((position: { organisation_id: string }) => position.organisation_id), [landsId]);
    assert.equal(own.body.settlement[0].accounts[0].closing_balance, '40.25', 'its own clearing account, not the sum over every organisation');
    assert.deepEqual(ownByName.body, own.body);
    assertProblem(await landsReader.get(`/v1/reports/daily?date=${date}&organisation_id=${transportId}`), 404, 'not_found');
    assertProblem(await landsReader.get(`/v1/reports/daily?date=${date}&organisation_id=${randomUUID()}`), 404, 'not_found');
  });

  it('when treasury names one organisation, then the report is that organisation’s; an unknown one is 404', async () => {
    const transport = await treasury.get(`/v1/reports/daily?date=${date}&organisation_id=${transportId}`);

    assert.equal(transport.status, 200);
    assert.deepEqual(transport.body.positions.map((position: { organisation: string; collected: string }) => [position.organisation, position.collected]), [['transport-agency', '7.50']]);
    assertProblem(await treasury.get(`/v1/reports/daily?date=${date}&organisation_id=${randomUUID()}`), 404, 'not_found');
  });

  it('when a credential can neither read orders nor the treasury, then the report is forbidden to it', async () => {
    assertProblem(await writerOnly.get(`/v1/reports/daily?date=${date}`), 403, 'insufficient_scope');
  });

  it('when the query is malformed, then a validation problem names each field', async () => {
    assertInvalidFields(await treasury.get('/v1/reports/daily?date=2026-02-30'), ['query.date']);
    assertInvalidFields(await treasury.get('/v1/reports/daily?date=yesterday'), ['query.date']);
    assertInvalidFields(await treasury.get('/v1/reports/daily'), ['query.date']);
    assertInvalidFields(await treasury.get(`/v1/reports/daily?date=${date}&format=xlsx&organisation_id=42&colour=blue`), ['query.format', 'query.organisation_id', 'query.colour']);
  });

  it('when the CLI reports the day, then it prints the tables, and with --output it writes the CSV (--csv) or the JSON', async () => {
    const file = join(directory, 'day.csv');
    const document = join(directory, 'day.json');
    const printed = await kassaCommand(['report', 'daily', '--date', date], { KASSA_URL: kassa.url, KASSA_API_KEY: treasuryKey });
    const written = await kassaCommand(['report', 'daily', '--date', date, '--csv', '--output', file], { KASSA_URL: kassa.url, KASSA_API_KEY: treasuryKey });
    const own = await kassaCommand(['report', 'daily', '--date', date, '--output', document], { KASSA_URL: kassa.url, KASSA_API_KEY: landsKey });
    const other = await kassaCommand(['report', 'daily', '--date', date, '--organisation', transportId], { KASSA_URL: kassa.url, KASSA_API_KEY: landsKey });
    const badDate = await kassaCommand(['report', 'daily', '--date', '2026-13-01'], { KASSA_URL: kassa.url, KASSA_API_KEY: treasuryKey });

    assert.equal(printed.code, 0, printed.stderr);
    assert.match(printed.stdout, new RegExp(`^Daily report ${date}: ${date}T00:00:00.000Z to `));
    assert.match(printed.stdout, /lands-registry +KES +0\.00 +40\.25 \(1\) +0\.00 \(0\)/);
    assert.match(printed.stdout, /sandbox +MPESA +KES +0\.00 +47\.75 +0\.00 +47\.75/);
    assert.match(printed.stdout, /Unresolved reconciliation exceptions\n {2}\(none\)/);
    assert.equal(written.code, 0, written.stderr);
    assert.equal(written.stdout, `report written to ${file}\n`);
    assert.equal(await readFile(file, 'utf8'), (await treasury.get(`/v1/reports/daily?date=${date}&format=csv`)).body);
    assert.equal(own.code, 0, own.stderr);
    assert.deepEqual(JSON.parse(await readFile(document, 'utf8')), (await landsReader.get(`/v1/reports/daily?date=${date}`)).body);
    assert.equal(other.code, 1);
    assert.match(other.stderr, /HTTP 404, not_found/);
    assert.notEqual(badDate.code, 0);
    assert.match(badDate.stderr, /must be a date such as 2026-11-25/);
  });
});
