import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { apiClient } from '../support/http.ts';
import { orderReaching, startTestKassa, type TestKassa } from '../support/kassa.ts';
import { organisationIdOf } from '../support/seed-orders.ts';
import { assertInvalidFields, assertProblem, feeOrder } from './helpers.ts';

type Api = ReturnType<typeof apiClient>;

describe('the ledger over HTTP', function () {
  this.timeout(120_000);
  let kassa: TestKassa;
  let cashier: Api;
  let reader: Api;
  let otherReader: Api;
  let treasury: Api;
  let writerOnly: Api;
  let orderId: string;
  let paidBefore: Date;
  let agencyId: string;

  before(async () => {
    kassa = await startTestKassa({ backend: 'postgres' });
    cashier = apiClient(kassa.url, await kassa.issueKey('lands-registry', ['fees:write', 'orders:read']));
    reader = apiClient(kassa.url, await kassa.issueKey('lands-registry', ['orders:read']));
    writerOnly = apiClient(kassa.url, await kassa.issueKey('lands-registry', ['fees:write']));
    otherReader = apiClient(kassa.url, await kassa.issueKey('transport-agency', ['orders:read']));
    treasury = apiClient(kassa.url, await kassa.issueKey('ministry-of-finance', ['treasury:read']));
    agencyId = await organisationIdOf(kassa.runtime.context.db, 'lands-registry');

    paidBefore = new Date();
    const created = await cashier.post('/v1/orders', feeOrder({ amount: '40.25', payer: { type: 'msisdn', value: '+254711000222', institution: 'MPESA' } }), randomUUID());
    assert.equal(created.status, 201, JSON.stringify(created.body));
    orderId = created.body.id;
    await orderReaching(cashier, orderId, 'completed');
  });
  after(async () => {
    await kassa?.stop();
  });

  const balanceOf = (body: { data: { account: string; balance: string; balance_minor: string }[] }, account: string) => body.data.find((entry) => entry.account === account);

  it('when an agency reads its accounts, then the fee it collected is revenue against clearing, as decimal and minor units', async () => {
    const answer = await reader.get('/v1/ledger/accounts?currency=KES');
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    assert.equal(answer.body.organisation_id, agencyId);
    assert.equal(answer.body.as_of, null);
    assert.deepEqual(balanceOf(answer.body, 'fees:revenue'), { account: 'fees:revenue', kind: 'fee_revenue', currency: 'KES', balance: '-40.25', balance_minor: '-4025' });
    assert.deepEqual(balanceOf(answer.body, 'clearing:sandbox:MPESA'), { account: 'clearing:sandbox:MPESA', kind: 'clearing', currency: 'KES', balance: '40.25', balance_minor: '4025' });
    const other = await reader.get('/v1/ledger/accounts?currency=EUR');
    assert.deepEqual(other.body.data, [], 'nothing was posted in EUR');
  });

  it('when the accounts are read as of a moment before the fee was paid, then it is not there', async () => {
    const answer = await reader.get(`/v1/ledger/accounts?as_of=${encodeURIComponent(paidBefore.toISOString())}`);
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    assert.equal(answer.body.as_of, paidBefore.toISOString());
    assert.equal(balanceOf(answer.body, 'fees:revenue'), undefined);
  });

  it("when an order's journals are asked for, then its collection is listed with its postings", async () => {
    const answer = await reader.get(`/v1/ledger/journals?order_id=${orderId}`);
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    assert.equal(answer.body.order_id, orderId);
    assert.equal(answer.body.data.length, 1);
    const [journal] = answer.body.data;
    assert.equal(journal.kind, 'fee_collected');
    assert.equal(journal.order_id, orderId);
    assert.equal(journal.reverses_journal_id, null);
    assert.deepEqual(journal.postings, [
      { account: 'clearing:sandbox:MPESA', account_kind: 'clearing', currency: 'KES', amount: '40.25', amount_minor: '4025' },
      { account: 'fees:revenue', account_kind: 'fee_revenue', currency: 'KES', amount: '-40.25', amount_minor: '-4025' },
    ]);
  });

  it("when another organisation asks for the order's journals, then the order does not exist for it; treasury sees them", async () => {
    assertProblem(await otherReader.get(`/v1/ledger/journals?order_id=${orderId}`), 404, 'not_found');
    assertProblem(await reader.get(`/v1/ledger/journals?order_id=${randomUUID()}`), 404, 'not_found');
    const seen = await treasury.get(`/v1/ledger/journals?order_id=${orderId}`);
    assert.equal(seen.status, 200);
    assert.equal(seen.body.data[0].kind, 'fee_collected');
  });

  it("when an agency names another organisation's ledger, then it is forbidden; treasury may read it", async () => {
    assertProblem(await otherReader.get(`/v1/ledger/accounts?organisation_id=${agencyId}`), 403, 'insufficient_scope');
    const own = await reader.get(`/v1/ledger/accounts?organisation_id=${agencyId}`);
    assert.equal(own.status, 200);
    const read = await treasury.get(`/v1/ledger/accounts?organisation_id=${agencyId}`);
    assert.equal(read.status, 200);
    assert.equal(read.body.organisation_id, agencyId);
    assert.equal(balanceOf(read.body, 'fees:revenue')?.balance, '-40.25');
    const treasuryOwn = await treasury.get('/v1/ledger/accounts');
    assert.deepEqual(treasuryOwn.body.data, [], "treasury's own organisation has posted nothing");
  });

  it('when a credential can neither read orders nor the treasury, then the ledger is forbidden to it', async () => {
    assertProblem(await writerOnly.get('/v1/ledger/accounts'), 403, 'insufficient_scope');
    assertProblem(await writerOnly.get(`/v1/ledger/journals?order_id=${orderId}`), 403, 'insufficient_scope');
  });

  it('when the query is malformed, then a validation problem names each field', async () => {
    const badMoment = await reader.get('/v1/ledger/accounts?as_of=yesterday');
    assertInvalidFields(badMoment, ['query.as_of']);
    assert.match(badMoment.body.errors[0].reason, /date and time/);
    assertInvalidFields(await reader.get('/v1/ledger/accounts?as_of=2026-13-01T00:00:00Z&currency=kes&organisation_id=nope'), ['query.as_of', 'query.currency', 'query.organisation_id']);
    assertInvalidFields(await reader.get('/v1/ledger/accounts?colour=blue'), ['query.colour']);
    assertInvalidFields(await reader.get('/v1/ledger/journals'), ['query.order_id']);
    assertInvalidFields(await reader.get('/v1/ledger/journals?order_id=42'), ['query.order_id']);
  });
});
