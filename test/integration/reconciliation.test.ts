import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BANK_SIMULATOR_TREASURY, startBankSimulator, type BankSimulator } from '../../adapters/bank-iso20022/simulator.ts';
import { buildCamt053, type BookedEntry } from '../../adapters/bank-iso20022/simulator-messages.ts';
import { assertSchemaValid, ibanEndingWith } from '../fixtures/iso20022/support.ts';
import { apiClient, benefitOrder } from '../support/http.ts';
import { eventually, orderReaching, railKeyOf, startTestKassa, type TestKassa } from '../support/kassa.ts';
import { organisationIdOf, seedOrders } from '../support/seed-orders.ts';
import { assertProblem } from '../e2e/helpers.ts';

type Api = ReturnType<typeof apiClient>;
const BANK = 'bank-iso20022';
const today = () => new Date().toISOString().slice(0, 10);

/** The agencies' webhook endpoint: records every event it receives. */
async function startWebhookReceiver(): Promise<{ url: string; events: { type: string; data: { id: string; status: string } }[]; close(): Promise<void> }> {
  const events: { type: string; data: { id: string; status: string } }[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      events.push(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`,
    events,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

describe('reconciliation of a day of bank traffic', function () {
  this.timeout(180_000);
  let bank: BankSimulator;
  let kassa: TestKassa;
  let receiver: Awaited<ReturnType<typeof startWebhookReceiver>>;
  let treasuryAdmin: Api;
  let treasury: Api;
  let pensions: Api;
  let pensionsReader: Api;
  let pensionsAdmin: Api;
  let housing: Api;

  before(async () => {
    bank = await startBankSimulator({ settleDelayMs: 300 });
    receiver = await startWebhookReceiver();
    kassa = await startTestKassa({
      backend: 'postgres',
      env: {
        RAILS: `${BANK},sandbox`,
        RAIL_ROUTES: JSON.stringify([{ rail: BANK, partyType: 'iban', direction: 'disbursement' }, { rail: 'sandbox' }]),
        RAIL_BANK_ISO20022_BASE_URL: bank.url,
        RAIL_BANK_ISO20022_DEBTOR_NAME: BANK_SIMULATOR_TREASURY.name,
        RAIL_BANK_ISO20022_DEBTOR_IBAN: BANK_SIMULATOR_TREASURY.iban,
        RAIL_BANK_ISO20022_DEBTOR_BIC: BANK_SIMULATOR_TREASURY.bic,
        RAIL_BANK_ISO20022_CALLBACK_SECRET: bank.callbackSecret,
        RECON_MISSING_AFTER_DAYS: '0',
      },
    });
    treasuryAdmin = apiClient(kassa.url, await kassa.issueKey('ministry-of-finance', ['admin', 'treasury:write']));
    treasury = apiClient(kassa.url, await kassa.issueKey('ministry-of-finance', ['treasury:read']));
    pensions = apiClient(kassa.url, await kassa.issueKey('pensions-agency', ['benefits:write', 'orders:read']));
    pensionsReader = apiClient(kassa.url, await kassa.issueKey('pensions-agency', ['orders:read']));
    housing = apiClient(kassa.url, await kassa.issueKey('housing-agency', ['benefits:write', 'orders:read']));
    pensionsAdmin = apiClient(kassa.url, await kassa.issueKey('pensions-agency', ['admin']));
    assert.equal((await pensionsAdmin.post('/v1/webhook-endpoint', { url: receiver.url }, randomUUID())).status, 200);
  });
  after(async () => {
    await kassa?.stop();
    await bank?.close();
    await receiver?.close();
  });

  const db = () => kassa.runtime.context.db;
  const pay = async (api: Api, ending: string, amount: string) => (await api.post('/v1/orders', benefitOrder({ payee: { type: 'iban', value: ibanEndingWith(ending), institution: 'SIMBDEFFXXX' }, currency: 'EUR', amount }), randomUUID())).body as { id: string };
  const waitFor = (api: Api, id: string, status: string) => orderReaching(api, id, status);
  const exceptionsOf = async (api: Api, query: string) => (await api.get(`/v1/reconciliation/exceptions?limit=200&${query}`)).body.data as { id: string; type: string; severity: string; order_id: string | null; status: string; organisation_id: string | null }[];

  it('when a day of payments is reconciled against the statement pulled from the bank, then every line is matched and nothing is an exception', async () => {
    // Pensions: six paid at once, two the bank settles later (…0002), two to closed accounts; housing: three.
    const pensionsOrders = await Promise.all(['4101', '4102', '4103', '4104', '4105', '4106', '0002', '0002'].map((ending) => pay(pensions, ending, '120.50')));
    const housingOrders = await Promise.all(['4201', '4202', '4203'].map((ending) => pay(housing, ending, '310.00')));
    const closed = await Promise.all(['0000', '0000'].map((ending) => pay(pensions, ending, '99.99')));
    for (const order of pensionsOrders) await waitFor(pensions, order.id, 'completed');
    for (const order of housingOrders) await waitFor(housing, order.id, 'completed');
    for (const order of closed) await waitFor(pensions, order.id, 'failed');
    const orders = [...pensionsOrders, ...housingOrders];

    const pulled = await treasuryAdmin.post('/v1/reconciliation/runs', { rail: BANK, date: today() }, randomUUID());

    assert.equal(pulled.status, 201, JSON.stringify(pulled.body));
    const run = pulled.body.run;
    assert.equal(run.status, 'completed');
    assert.equal(run.trigger, 'pull');
    // How many bookings the day makes depends on how the payments were chunked; every one must match.
    assert.ok(run.lines >= 1, `the bank booked the day's payments: ${run.lines} lines`);
    assert.ok(run.lines < orders.length, 'chunks are booked as bulk lines');
    assert.equal(run.matched, run.lines, JSON.stringify(run));
    assert.deepEqual(run.exceptions_by_type, {});
    const linked = (await db().raw(
      `SELECT count(DISTINCT o.id)::int AS n FROM orders o WHERE o.status = 'completed' AND (
         EXISTS (SELECT 1 FROM statement_lines l WHERE l.rail_key = o.rail_key) OR EXISTS (SELECT 1 FROM statement_line_payments p WHERE p.order_id = o.id))`,
    )).rows[0].n;
    assert.equal(linked, orders.length, 'every completed payment is on the statement');

    const again = await treasuryAdmin.post('/v1/reconciliation/runs', { rail: BANK, date: today() }, randomUUID());
    assert.equal(again.status, 200, 'the same statement pulled again is recognised');
    assert.equal(again.body.duplicate, true);
    assert.equal(again.body.statement.id, pulled.body.statement.id);
  });

  describe('when each kind of discrepancy is put on a statement on purpose', () => {
    let statementXml: string;
    let runBody: { id: string; exceptions_by_type: Record<string, number>; confirmed: number; returned: number; lines: number; matched: number };
    const ids: Record<string, string> = {};

    before(async () => {
      const pensionsOrg = await organisationIdOf(db(), 'pensions-agency');
      for (const [name, ending] of [['amount', '4301'], ['missing', '4302'], ['duplicate', '4303'], ['returned', '4304']] as const) ids[name] = (await pay(pensions, ending, '50.00')).id;
      ids.contradicted = (await pay(pensions, '0000', '50.00')).id;
      for (const name of ['amount', 'missing', 'duplicate', 'returned']) await waitFor(pensions, ids[name]!, 'completed');
      await waitFor(pensions, ids.contradicted!, 'failed');
      // An order the bank executed whose answer Kassa never had: still submitted.
      const [waiting] = await seedOrders(db(), [{ organisationId: pensionsOrg, railKey: `WAIT${randomUUID().replaceAll('-', '').slice(0, 20)}`, status: 'submitted', rail: BANK, amountMinor: 5000n }]);
      ids.waiting = waiting!.id;

      const returnedKey = await railKeyOf(kassa, ids.returned!);
      bank.returnPayment(returnedKey, 'AC04');
      const bookings = bank.bookings();
      const referenceOf = (key: string) => bookings.flatMap((booking) => booking.transactions).find((tx) => tx.endToEndId === key && tx.returnReasonCode === undefined)!.accountServicerReference;
      const returnBooking = bookings.find((booking) => booking.reversal && booking.transactions[0]!.endToEndId === returnedKey)!;

      const single = async (name: string, options: { reference?: string; minor?: bigint } = {}): Promise<BookedEntry> => {
        const key = await railKeyOf(kassa, ids[name]!);
        const reference = options.reference ?? referenceOf(key);
        const amount = { minor: options.minor ?? 5000n, currency: 'EUR' };
        return {
          reference, bookingDate: today(), valueDate: today(), direction: 'debit', reversal: false, amount, status: 'BOOK', subFamily: 'DMCT',
          transactions: [{ endToEndId: key, accountServicerReference: reference, amount, creditorName: 'Zoë Ñandú Øre', creditorAccount: { iban: ibanEndingWith('4300') } }],
        };
      };
      const stranger: BookedEntry = {
        reference: 'X-UNKNOWN-1', bookingDate: today(), valueDate: today(), direction: 'debit', reversal: false, amount: { minor: 777n, currency: 'EUR' }, status: 'BOOK', subFamily: 'DMCT',
        transactions: [{ endToEndId: 'NOSUCHPAYMENT0001', accountServicerReference: 'X-UNKNOWN-1', amount: { minor: 777n, currency: 'EUR' }, creditorName: 'Łukasz Żółć', creditorAccount: { iban: ibanEndingWith('9999') } }],
      };
      const entries: BookedEntry[] = [
        await single('amount', { minor: 5100n }),
        await single('duplicate'),
        await single('duplicate', { reference: 'DUPLICATE-1' }),
        await single('contradicted', { reference: 'PAID-ANYWAY-1' }),
        await single('returned'),
        returnBooking,
        await single('waiting', { reference: 'LATE-ANSWER-1' }),
        stranger,
      ];
      const net = entries.reduce((sum, entry) => sum + (entry.direction === 'credit' ? entry.amount.minor : -entry.amount.minor), 0n);
      statementXml = buildCamt053({
        messageId: `INJECTED-${Date.now()}`,
        createdAt: new Date(),
        reports: [{
          id: `S${today().replaceAll('-', '')}9001`, sequenceNumber: 9001, iban: BANK_SIMULATOR_TREASURY.iban, currency: 'EUR', ownerName: 'Ministère des Finances – Trésor',
          bankBic: BANK_SIMULATOR_TREASURY.bic, createdAt: new Date(), from: new Date(`${today()}T00:00:00Z`), to: new Date(`${today()}T23:59:59Z`),
          openingBalance: { minor: 10_000_000n, date: today() }, closingBalance: { minor: 10_000_000n + net, date: today() }, entries,
        }],
      });
      const imported = await treasuryAdmin.call('POST', `/v1/statements?rail=${BANK}`, { rawBody: statementXml, headers: { 'content-type': 'application/xml' } });
      assert.equal(imported.status, 201, JSON.stringify(imported.body));
      runBody = imported.body.run;
    });

    it('then the statement is a valid camt.053', () => {
      assertSchemaValid('camt.053.001.08.xsd', { 'injected-statement': statementXml });
    });

    it('then each exception is reported once, with its severity', async () => {
      assert.deepEqual(runBody.exceptions_by_type, {
        amount_mismatch: 1, missing_on_statement: 1, duplicate_on_statement: 1, status_mismatch: 1, returned: 1, unexpected_on_statement: 1,
      });
      const found = await exceptionsOf(treasury, `run_id=${runBody.id}`);
      const byType = Object.fromEntries(found.map((exception) => [exception.type, exception]));
      assert.deepEqual(Object.fromEntries(found.map((exception) => [exception.type, exception.severity])), {
        status_mismatch: 'critical', duplicate_on_statement: 'high', amount_mismatch: 'high', unexpected_on_statement: 'medium', missing_on_statement: 'medium', returned: 'low',
      });
      assert.equal(byType.amount_mismatch!.order_id, ids.amount);
      assert.equal(byType.missing_on_statement!.order_id, ids.missing);
      assert.equal(byType.duplicate_on_statement!.order_id, ids.duplicate);
      assert.equal(byType.status_mismatch!.order_id, ids.contradicted);
      assert.equal(byType.returned!.order_id, ids.returned);
      assert.equal(byType.unexpected_on_statement!.order_id, null);
      assert.equal(runBody.lines, 8);
      assert.equal(runBody.matched, 3, 'the duplicate’s first booking, the returned payment’s debit and the late answer are matched');
    });

    it('then a payment the bank returned after completion is returned, with an event and a webhook', async () => {
      const order = await waitFor(pensions, ids.returned!, 'returned');
      assert.equal(order.failure.code, 'AC04');
      assert.deepEqual(order.events.map((event: { to: string }) => event.to).slice(-2), ['completed', 'returned']);
      await eventually(async () => (receiver.events.some((event) => event.type === 'order.returned' && event.data.id === ids.returned && event.data.status === 'returned') ? true : undefined), { what: 'the order.returned webhook' });
      assert.equal(runBody.returned, 1);
    });

    it('then a payment Kassa still waited on is completed by the statement', async () => {
      const order = await waitFor(pensions, ids.waiting!, 'completed');
      assert.equal(order.rail_reference, 'LATE-ANSWER-1');
      assert.equal(runBody.confirmed, 1);
      const contradicted = await waitFor(pensions, ids.contradicted!, 'failed');
      assert.equal(contradicted.status, 'failed', 'Kassa does not overrule a failure on its own: treasury looks into it');
    });

    it('then reconciling the statement again, or importing it again, reports nothing twice', async () => {
      const before = (await exceptionsOf(treasury, '')).length;
      const statementId = (await db()('reconciliation_runs').where({ id: runBody.id }).first()).statement_id as string;

      const rerun = await treasuryAdmin.post('/v1/reconciliation/runs', { statement_id: statementId }, randomUUID());
      const reimported = await treasuryAdmin.call('POST', `/v1/statements?rail=${BANK}`, { rawBody: statementXml, headers: { 'content-type': 'application/xml' } });

      assert.equal(rerun.status, 201, JSON.stringify(rerun.body));
      assert.equal(rerun.body.run.trigger, 'rerun');
      assert.deepEqual(rerun.body.run.exceptions_by_type, {});
      assert.equal(rerun.body.run.unmatched, 5, 'the lines still carry their exceptions, reported before');
      assert.equal(reimported.status, 200);
      assert.equal(reimported.body.duplicate, true);
      assert.equal((await exceptionsOf(treasury, '')).length, before);
    });

    it('then an agency sees only its own exceptions, and treasury sees them all', async () => {
      const all = await exceptionsOf(treasury, '');
      const pensionsOrg = await organisationIdOf(db(), 'pensions-agency');
      const own = await exceptionsOf(pensionsReader, '');
      assert.equal(own.length, 5);
      assert.ok(own.every((exception) => exception.organisation_id === pensionsOrg));
      assert.deepEqual(await exceptionsOf(housing, ''), []);
      assert.ok(all.length > own.length, 'treasury also sees the line no order explains');
      const stranger = all.find((exception) => exception.type === 'unexpected_on_statement')!;
      assert.equal((await pensionsReader.get(`/v1/reconciliation/exceptions/${stranger.id}`)).status, 404);
      assert.equal((await treasury.get(`/v1/reconciliation/exceptions/${stranger.id}`)).status, 200);
      assert.deepEqual((await exceptionsOf(treasury, 'severity=critical')).map((exception) => exception.type), ['status_mismatch']);
      const page = await treasury.get('/v1/reconciliation/exceptions?limit=2');
      const rest = await treasury.get(`/v1/reconciliation/exceptions?limit=200&cursor=${page.body.next_cursor}`);
      assert.equal(page.body.data.length + rest.body.data.length, all.length, 'the cursor pages through every exception once');
    });

    it('then treasury assigns and resolves an exception, and both acts are in the audit log', async () => {
      const [critical] = await exceptionsOf(treasury, 'type=status_mismatch');

      const assigned = await treasuryAdmin.post(`/v1/reconciliation/exceptions/${critical!.id}/assign`, { assignee: 'Amina Wanjiru' }, randomUUID());
      const resolved = await treasuryAdmin.post(`/v1/reconciliation/exceptions/${critical!.id}/resolve`, { reason: 'bank confirmed the debit in error; recalled under case 4711' }, randomUUID());
      const resolvedAgain = await treasuryAdmin.post(`/v1/reconciliation/exceptions/${critical!.id}/resolve`, { reason: 'again' }, randomUUID());
      const byReader = await treasury.post(`/v1/reconciliation/exceptions/${critical!.id}/assign`, { assignee: 'someone' }, randomUUID());

      assert.equal(assigned.status, 200, JSON.stringify(assigned.body));
      assert.deepEqual([assigned.body.status, assigned.body.assignee], ['assigned', 'Amina Wanjiru']);
      assert.equal(resolved.body.status, 'resolved');
      assert.equal(resolved.body.resolution.reason, 'bank confirmed the debit in error; recalled under case 4711');
      assert.equal(resolvedAgain.status, 409);
      assert.equal(byReader.status, 403);
      assert.deepEqual((await exceptionsOf(treasury, 'status=resolved')).map((exception) => exception.id), [critical!.id]);
      const audit = await db()('audit_log').where({ target: critical!.id }).orderBy('id');
      assert.deepEqual(audit.map((entry) => [entry.action, entry.action.endsWith('assign') ? entry.detail.assignee : entry.detail.reason]), [
        ['reconciliation.exception.assign', 'Amina Wanjiru'],
        ['reconciliation.exception.resolve', 'bank confirmed the debit in error; recalled under case 4711'],
      ]);
    });

    it("then an agency's administrator handles its own exceptions only, and none of the treasury's statements, runs or scopes", async () => {
      const pensionsOrg = await organisationIdOf(db(), 'pensions-agency');
      const seen = await exceptionsOf(pensionsAdmin, '');
      assert.ok(seen.length > 0 && seen.every((exception) => exception.organisation_id === pensionsOrg), 'an administrator reads its own organisation\'s, as orders:read does');
      const stranger = (await exceptionsOf(treasury, 'type=unexpected_on_statement'))[0]!;
      await assertProblem(await pensionsAdmin.post(`/v1/reconciliation/exceptions/${stranger.id}/resolve`, { reason: 'not ours' }, randomUUID()), 404, 'not_found');
      assert.equal((await exceptionsOf(treasury, '')).find((exception) => exception.id === stranger.id)!.status, 'open', "another organisation's exception is left as it was");
      const own = seen.find((exception) => exception.status !== 'resolved')!;
      const resolved = await pensionsAdmin.post(`/v1/reconciliation/exceptions/${own.id}/resolve`, { reason: 'paid again by hand' }, randomUUID());
      assert.equal(resolved.status, 200, JSON.stringify(resolved.body));
      assert.equal(resolved.body.status, 'resolved');

      for (const path of ['/v1/statements', '/v1/reconciliation/runs']) await assertProblem(await pensionsAdmin.get(path), 403, 'insufficient_scope');
      await assertProblem(await pensionsAdmin.post('/v1/reconciliation/runs', { rail: BANK, date: new Date().toISOString().slice(0, 10) }, randomUUID()), 403, 'insufficient_scope');
      const granted = await pensionsAdmin.post('/v1/clients', { name: 'would-be treasury', scopes: ['orders:read', 'treasury:read'] }, randomUUID());
      assertProblem(granted, 422, 'validation_failed');
      assert.match(JSON.stringify(granted.body.errors), /cannot grant treasury:read/);
    });

    it('then the runs are listed with who started them', async () => {
      const runs = await treasury.get(`/v1/reconciliation/runs?rail=${BANK}`);
      assert.equal(runs.status, 200);
      assert.deepEqual(runs.body.data.map((run: { trigger: string }) => run.trigger), ['rerun', 'import', 'pull']);
      assert.ok(runs.body.data.every((run: { started_by: string; status: string }) => run.started_by === 'test-ministry-of-finance' && run.status === 'completed'));
      assert.equal((await pensions.get('/v1/reconciliation/runs')).status, 403);
    });
  });
});
