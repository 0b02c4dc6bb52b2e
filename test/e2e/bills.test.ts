import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { voucherNumberKey } from '../../src/config/index.ts';
import { claimBill } from '../../src/db/repositories/bill-payments.ts';
import { claimBillerPrefixes, insertBiller } from '../../src/db/repositories/billers.ts';
import { putHostedBills } from '../../src/db/repositories/hosted-bills.ts';
import { hashVoucherNumber } from '../../src/domain/voucher.ts';
import { voucherRedemptionRequestId } from '../../src/services/pay-bill-with-voucher.ts';
import { voucherRedemption } from '../../src/services/redeem-voucher.ts';
import { startFakeBillSource, type FakeBillSource } from '../support/bill-source.ts';
import { apiClient, type JsonResponse } from '../support/http.ts';
import { eventually, orderReaching, startTestKassa, type TestKassa } from '../support/kassa.ts';
import { freePort } from '../support/ports.ts';
import { startPushReceiver, type PushReceiver } from '../support/push-receiver.ts';
import { assertInvalidFields, assertNothingWritten, assertProblem, sleep } from './helpers.ts';

type Api = ReturnType<typeof apiClient>;

const TENANT = 'govstack-p2g';
const WATER_ACCOUNT = { type: 'iban', value: 'GB82WEST12345698765432' };
/** The sandbox rail declines every payment to an account ending 0000 (AC04, closed account). */
const CLOSED_ACCOUNT = { type: 'bank_account', value: '7788990000' };
const CITY_BANK_SETTLEMENT = { type: 'bank_account', value: '0011223344' };
const VOUCHER_BILLER_ACCOUNT = { type: 'msisdn', value: '+254711000555' };
const LINKED_MERCHANT_ACCOUNT = { type: 'msisdn', value: '+254711000666' };

const newRequestId = () => randomBytes(6).toString('hex');
const newCorrelationId = () => randomUUID();
let billCounter = 1000;
const newBillId = (prefix: string) => `${prefix}${++billCounter}`;

function assertRefusal(response: JsonResponse, status: number, text: RegExp, field: 'reason' | 'responseDescription' = 'reason'): void {
  assert.equal(response.status, status, JSON.stringify(response.body));
  assert.match(response.contentType, /^application\/json/);
  assert.equal(response.body.responseCode, '01');
  assert.match(response.body[field], text);
}

describe('GovStack P2G bill payments (e2e: /bills, /billTransferRequests, /rtpRequest, /rtpResponse, /transferRequests)', function () {
  let kassa: TestKassa;
  let billSource: FakeBillSource;
  /** The payer institution's endpoint: requests to pay, and the biller's answers to its payments. */
  let payerEndpoint: PushReceiver;
  /** The biller's X-Callback-URL for its requests to pay. */
  let billerCallbacks: PushReceiver;
  let billerWebhooks: PushReceiver;
  let billerAdmin: Api;
  let biller: Api;
  let billerReader: Api;
  let payerAdmin: Api;
  let payer: Api;
  let otherPayer: Api;
  let otherBiller: Api;
  let cityBank: string;
  let otherBank: string;
  let silentBank: string;
  let water: string;
  let closed: string;
  let unreachable: string;
  let taxes: string;
  /** A biller that takes vouchers: the voucher agency registered it as a merchant under its biller code. */
  let voucherBiller: string;
  /** A biller whose code is longer than a merchant's: the agency links a merchant of another code to it. */
  let longBiller: string;
  let voucherAgencyPoint: string;
  /** The voucher agency's issuing credential, and its bill-paying point (bills:pay, vouchers:redeem). */
  let voucherIssuer: Api;
  let voucherPoint: Api;
  /** The first prefix of each biller. */
  const prefixes = new Map<string, string>();

  before(async function () {
    billSource = await startFakeBillSource();
    payerEndpoint = await startPushReceiver({ path: '/payer', keysOf: ({ text }) => [JSON.parse(text).TxnID ?? JSON.parse(text).billId] });
    billerCallbacks = await startPushReceiver({ path: '/biller/rtp', keysOf: ({ text }) => [JSON.parse(text).requestId] });
    billerWebhooks = await startPushReceiver({ path: '/biller/webhooks', keysOf: ({ text }) => [JSON.parse(text).data?.metadata?.bill?.bill_id ?? ''] });
    kassa = await startTestKassa({ backend: 'postgres', env: { BILL_SOURCE_TIMEOUT_MS: '400' } });
    const suffix = randomBytes(3).toString('hex').toUpperCase();
    [water, closed, unreachable, taxes] = [`WATER${suffix}`, `CLOSED${suffix}`, `GONE${suffix}`, `TAX${suffix}`];
    [cityBank, otherBank, silentBank] = [`CITY${suffix}`, `OTHER${suffix}`, `SILENT${suffix}`];

    billerAdmin = apiClient(kassa.url, await kassa.issueKey('p2g-water-board', ['admin']));
    biller = apiClient(kassa.url, await kassa.issueKey('p2g-water-board', ['fees:write']));
    billerReader = apiClient(kassa.url, await kassa.issueKey('p2g-water-board', ['orders:read']));
    payerAdmin = apiClient(kassa.url, await kassa.issueKey('p2g-city-bank', ['admin']));
    payer = apiClient(kassa.url, await kassa.issueKey('p2g-city-bank', ['bills:pay']));
    otherPayer = apiClient(kassa.url, await kassa.issueKey('p2g-other-bank', ['bills:pay']));
    otherBiller = apiClient(kassa.url, await kassa.issueKey('p2g-tax-office', ['fees:write']));
    const otherPayerAdmin = apiClient(kassa.url, await kassa.issueKey('p2g-other-bank', ['admin']));
    const otherBillerAdmin = apiClient(kassa.url, await kassa.issueKey('p2g-tax-office', ['admin']));

    const register = async (api: Api, path: string, body: { code: string; prefixes?: string[]; [field: string]: unknown }) => {
      const created = await api.post(path, body, randomUUID());
      assert.equal(created.status, 201, JSON.stringify(created.body));
      if (body.prefixes) prefixes.set(body.code, body.prefixes[0]!);
    };
    await register(billerAdmin, '/v1/billers', { code: water, name: 'Water Board', currency: 'KES', account: WATER_ACCOUNT, bill_source_url: billSource.url, prefixes: [`W${suffix}-`, `WTR${suffix}`] });
    await register(billerAdmin, '/v1/billers', { code: closed, name: 'Old Board', currency: 'KES', account: CLOSED_ACCOUNT, bill_source_url: billSource.url, prefixes: [`C${suffix}-`] });
    await register(billerAdmin, '/v1/billers', { code: unreachable, name: 'Gone Board', currency: 'KES', account: WATER_ACCOUNT, bill_source_url: `http://127.0.0.1:${await freePort()}`, prefixes: [`G${suffix}-`] });
    await register(otherBillerAdmin, '/v1/billers', { code: taxes, name: 'Tax Office', currency: 'KES', account: WATER_ACCOUNT, bill_source_url: billSource.url, prefixes: [`T${suffix}-`] });
    await register(payerAdmin, '/v1/payer-institutions', { code: cityBank, name: 'City Bank', settlement_account: CITY_BANK_SETTLEMENT, rtp_url: payerEndpoint.url });
    await register(payerAdmin, '/v1/payer-institutions', { code: silentBank, name: 'Silent Bank', settlement_account: CITY_BANK_SETTLEMENT });
    await register(otherPayerAdmin, '/v1/payer-institutions', { code: otherBank, name: 'Other Bank', settlement_account: CITY_BANK_SETTLEMENT });
    const webhook = await billerAdmin.post('/v1/webhook-endpoint', { url: billerWebhooks.url }, randomUUID());
    assert.equal(webhook.status, 200, JSON.stringify(webhook.body));

    voucherBiller = `VB${suffix}`;
    voucherAgencyPoint = `AGENCY${suffix}`;
    await register(billerAdmin, '/v1/billers', { code: voucherBiller, name: 'Water Board', currency: 'KES', account: VOUCHER_BILLER_ACCOUNT, bill_source_url: billSource.url, prefixes: [`V${suffix}-`] });
    const agencyAdmin = apiClient(kassa.url, await kassa.issueKey('p2g-voucher-agency', ['admin']));
    voucherIssuer = apiClient(kassa.url, await kassa.issueKey('p2g-voucher-agency', ['benefits:write', 'orders:read']));
    voucherPoint = apiClient(kassa.url, await kassa.issueKey('p2g-voucher-agency', ['bills:pay', 'vouchers:redeem']));
    assert.equal((await agencyAdmin.post('/v1/programs', { code: 'BILLS', name: 'Bill vouchers', currency: 'KES', budget: '100000.00', funding_account: WATER_ACCOUNT }, randomUUID())).status, 201);
    assert.equal((await agencyAdmin.post('/v1/voucher-groups', { code: 'UTIL', name: 'Utilities', program: 'BILLS' }, randomUUID())).status, 201);
    assert.equal((await agencyAdmin.post('/v1/merchants', { code: voucherBiller, name: 'Water Board', account: VOUCHER_BILLER_ACCOUNT, credential: false }, randomUUID())).status, 201);
    longBiller = `WATERWORKS${suffix}`;
    await register(billerAdmin, '/v1/billers', { code: longBiller, name: 'Waterworks', currency: 'KES', account: VOUCHER_BILLER_ACCOUNT, bill_source_url: billSource.url, prefixes: [`L${suffix}-`] });
    const linked = await agencyAdmin.post('/v1/merchants', { code: `LW${suffix}`, name: 'Waterworks', account: LINKED_MERCHANT_ACCOUNT, biller: longBiller }, randomUUID());
    assert.equal(linked.status, 201, JSON.stringify(linked.body));
    assert.equal(typeof linked.body.biller_id, 'string');
    assertProblem(await agencyAdmin.post('/v1/merchants', { code: `LX${suffix}`, name: 'Waterworks again', account: LINKED_MERCHANT_ACCOUNT, biller: longBiller }, randomUUID()), 409, 'merchant_exists');
    const unknownBiller = await agencyAdmin.post('/v1/merchants', { code: `LY${suffix}`, name: 'Nobody', account: LINKED_MERCHANT_ACCOUNT, biller: `NOBODY${suffix}` }, randomUUID());
    assertInvalidFields(unknownBiller, ['body.biller']);
    await register(agencyAdmin, '/v1/payer-institutions', { code: voucherAgencyPoint, name: 'Agency point', settlement_account: CITY_BANK_SETTLEMENT });
  });

  after(async function () {
    await kassa?.stop();
    await billSource?.close();
    await payerEndpoint?.close();
    await billerCallbacks?.close();
    await billerWebhooks?.close();
  });

  const db = () => kassa.runtime.context.db;
  const prefixOf = (code: string) => prefixes.get(code)!;

  /** A bill the biller's source knows: 150.50 until the due date, 175 after it. */
  function issueBill(billerCode: string, details: Record<string, unknown> = {}): string {
    const billId = newBillId(prefixOf(billerCode));
    billSource.bills.set(billId, { billerId: billerCode, billerName: 'Water', billStatus: 'UNPAID', dueDate: '2099-12-31T00:00:00Z', amountonDueDate: 150.5, amountAfterDueDate: 175, ...details });
    return billId;
  }

  const payerHeaders = (correlationId: string, overrides: Record<string, string | undefined> = {}) => withoutUndefined({
    'X-CorrelationID': correlationId, 'X-Platform-TenantId': TENANT, 'X-PayerFI-Id': cityBank, ...overrides,
  });
  const billerHeaders = (correlationId: string, overrides: Record<string, string | undefined> = {}) => withoutUndefined({
    'X-CorrelationID': correlationId, 'X-Platform-TenantId': TENANT, 'X-billerId': water, ...overrides,
  });

  const inquire = (billId: string, correlationId = newCorrelationId(), api: Api = payer, overrides: Record<string, string | undefined> = {}) =>
    api.get(`/bills/${billId}?fields=inquiry`, payerHeaders(correlationId, overrides));

  async function inquired(billId: string, api: Api = payer, overrides: Record<string, string | undefined> = {}): Promise<string> {
    const correlationId = newCorrelationId();
    const answer = await inquire(billId, correlationId, api, overrides);
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    return correlationId;
  }

  function pay(billId: string, billInquiryRequestId: string, options: { correlationId?: string; requestId?: string; api?: Api; headers?: Record<string, string | undefined>; body?: Record<string, unknown> } = {}) {
    const body = { requestId: options.requestId ?? newRequestId(), billInquiryRequestId, billId, paymentReferenceID: `REF-${billId}`, ...options.body };
    return (options.api ?? payer).call('POST', '/billTransferRequests', { body, headers: payerHeaders(options.correlationId ?? newCorrelationId(), { 'X-Callback-URL': payerEndpoint.url, ...options.headers }) });
  }

  /** The fee orders written for a bill, oldest first. */
  const ordersOfBill = async (billId: string) =>
    (await db()('bill_payments as p').join('orders as o', 'o.id', 'p.order_id').where('p.bill_id', billId).orderBy('p.created_at').select('o.*', 'p.id as payment_id')) as { id: string; status: string; amount_minor: string; payee: unknown; payment_id: string }[];
  const paymentRow = (paymentId: string) => db()('bill_payments').where({ id: paymentId }).first();
  const noticeReaching = (paymentId: string, status: string) => eventually(async () => {
    const row = await paymentRow(paymentId);
    return row?.notice_status === status ? row : undefined;
  }, { what: `the notice of payment ${paymentId} to be ${status}` });

  async function paidBill(billerCode = water): Promise<{ billId: string; order: { id: string }; paymentId: string; requestId: string }> {
    const billId = issueBill(billerCode);
    const requestId = newRequestId();
    const accepted = await pay(billId, await inquired(billId), { requestId });
    assert.equal(accepted.status, 202, JSON.stringify(accepted.body));
    const [order] = await ordersOfBill(billId);
    return { billId, order: order!, paymentId: order!.payment_id, requestId };
  }

  const rtpRequest = (body: Record<string, unknown>, options: { api?: Api; correlationId?: string; headers?: Record<string, string | undefined> } = {}) =>
    (options.api ?? biller).call('POST', '/rtpRequest', {
      body: { requestType: '00', payerFiDetails: { payerFIBIC: cityBank, financialAddress: '+254711000111' }, billDetails: { billerName: 'Water', amount: 80 }, ...body },
      headers: billerHeaders(options.correlationId ?? newCorrelationId(), { 'X-Callback-URL': billerCallbacks.url, ...options.headers }),
    });
  const rtpResponse = (body: Record<string, unknown>, options: { api?: Api; headers?: Record<string, string | undefined> } = {}) =>
    (options.api ?? payer).call('POST', '/rtpResponse', { body: { RequestId: newRequestId(), ...body }, headers: billerHeaders(newCorrelationId(), options.headers) });
  const rtpStatus = (rtpId: number | string, api: Api = biller, headers: Record<string, string | undefined> = {}) => api.get(`/transferRequests/${rtpId}`, billerHeaders(newCorrelationId(), headers));
  let rtpCounter = 9000;

  async function requestedToPay(options: { expiresAt?: string; amount?: number } = {}): Promise<{ rtpId: number; requestId: string; billId: string }> {
    const rtpId = ++rtpCounter;
    const requestId = newRequestId();
    const billId = newBillId(prefixOf(water));
    const sent = await rtpRequest({ requestId, rtpId, billID: billId, billDetails: { billerName: 'Water', amount: options.amount ?? 80 }, ...(options.expiresAt ? { expiresAt: options.expiresAt } : {}) });
    assert.equal(sent.status, 200, JSON.stringify(sent.body));
    return { rtpId, requestId, billId };
  }

  describe('billers and payer institutions', function () {
    it('when an admin registers them, then each organisation lists its own, and a prefix that equals, starts or extends another biller\'s is refused', async function () {
      const mine = await billerReader.get('/v1/billers');
      assert.equal(mine.status, 200, JSON.stringify(mine.body));
      assert.deepEqual(mine.body.data.map((entry: { code: string }) => entry.code).sort(), [closed, unreachable, voucherBiller, water, longBiller].sort());
      const waterBiller = mine.body.data.find((entry: { code: string }) => entry.code === water);
      assert.deepEqual(waterBiller.account, WATER_ACCOUNT);
      assert.equal(waterBiller.bill_source_url, billSource.url);
      assert.equal((await billerReader.get(`/v1/billers/${waterBiller.id}`)).body.code, water);
      assert.equal((await payerAdmin.get(`/v1/billers/${waterBiller.id}`)).status, 404, "another organisation's biller is not found");
      assert.deepEqual((await payerAdmin.get('/v1/payer-institutions')).body.data.map((entry: { code: string }) => entry.code).sort(), [cityBank, silentBank].sort());

      const held = prefixOf(water);
      for (const prefix of [held, `${held}9`, held.slice(0, -1)]) {
        const refused = await assertNothingWritten(db(), () => billerAdmin.post('/v1/billers', { code: `NEW${randomBytes(3).toString('hex')}`, name: 'Copycat', currency: 'KES', account: WATER_ACCOUNT, bill_source_url: billSource.url, prefixes: [prefix] }, randomUUID()), ['billers', 'biller_prefixes']);
        assertProblem(refused, 409, 'bill_prefix_taken');
      }
      assertProblem(await billerAdmin.post('/v1/billers', { code: water, name: 'Again', currency: 'KES', account: WATER_ACCOUNT, bill_source_url: billSource.url, prefixes: ['FRESH-'] }, randomUUID()), 409, 'biller_exists');
      assertProblem(await biller.post('/v1/billers', { code: 'NOADMIN', name: 'No', currency: 'KES', account: WATER_ACCOUNT, bill_source_url: billSource.url, prefixes: ['NOADMIN-'] }, randomUUID()), 403, 'insufficient_scope');
      assertProblem(await payerAdmin.post('/v1/payer-institutions', { code: 'BAD', name: 'Bad', settlement_account: { type: 'iban', value: 'GB00NOTANIBAN' } }, randomUUID()), 422, 'validation_failed');
    });
  });

  describe('bill inquiry', function () {
    it("when a payer institution asks for a bill, then Kassa asks the biller's bill source with GovStack's headers and answers the bill; asked again, the same answer without asking again", async function () {
      const billId = issueBill(water);
      const correlationId = newCorrelationId();
      const answer = await inquire(billId, correlationId);
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      assert.deepEqual(answer.body, {
        requestId: correlationId, code: '00', reason: 'bill found', billId,
        billDetails: { billerId: water, billerName: 'Water', billStatus: 'UNPAID', dueDate: Date.parse('2099-12-31T00:00:00Z') / 1000, amountonDueDate: 150.5, amountAfterDueDate: 175, currency: 'KES' },
      });
      const asked = billSource.inquiries.filter((call) => call.path === `/bills/${billId}`);
      assert.equal(asked.length, 1);
      assert.equal(asked[0]!.headers['x-correlationid'], correlationId);
      assert.equal(asked[0]!.headers['x-platform-tenantid'], TENANT);
      assert.equal(asked[0]!.headers['x-payerfi-id'], cityBank);

      const again = await inquire(billId, correlationId);
      assert.equal(again.status, 200);
      assert.deepEqual(again.body, answer.body);
      assert.equal(again.headers.get('idempotent-replayed'), 'true');
      assert.equal(billSource.inquiries.filter((call) => call.path === `/bills/${billId}`).length, 1, 'a repeat is answered from what was stored');

      assertRefusal(await inquire(issueBill(water), correlationId), 409, /X-CorrelationID was already used/);
    });

    it('when the bill is past its due date, then the amount after it is owed', async function () {
      const billId = issueBill(water, { dueDate: '2020-01-01T00:00:00Z' });
      const accepted = await pay(billId, await inquired(billId));
      assert.equal(accepted.status, 202, JSON.stringify(accepted.body));
      const [order] = await ordersOfBill(billId);
      assert.equal(order!.amount_minor, '17500');
    });

    it('when no biller holds the prefix, or the biller has no such bill, then 404 in GovStack\'s shape', async function () {
      assertRefusal(await inquire('NOBODY-1'), 404, /no biller is registered for bill ID NOBODY-1/);
      assertRefusal(await inquire(newBillId(prefixOf(water))), 404, new RegExp(`biller ${water} has no bill .*no such bill`));
    });

    it('when the biller is down, hangs or cannot be reached, then the payer gets 502 or 504 at once; once it is back, the same X-CorrelationID gets the bill', async function () {
      const billId = issueBill(water);
      const correlationId = newCorrelationId();
      try {
        billSource.inquiryAnswer = 'down';
        assertRefusal(await inquire(billId, correlationId), 502, new RegExp(`biller ${water} answered HTTP 503`));
        billSource.inquiryAnswer = 'hang';
        assertRefusal(await inquire(billId, correlationId), 504, new RegExp(`biller ${water} did not answer within 400 ms`));
      } finally {
        billSource.inquiryAnswer = 'bill';
      }
      assertRefusal(await inquire(newBillId(prefixOf(unreachable))), 502, new RegExp(`biller ${unreachable} could not be reached`));
      const answer = await inquire(billId, correlationId);
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      assert.equal(answer.body.billDetails.amountonDueDate, 150.5);
    });
  });

  describe('bill payment', function () {
    it("when a payer pays an inquired bill, then a fee order from its settlement account to the biller's account completes on the sandbox rail, the bill is paid, the biller is told once and acknowledges, and the payer and the biller's webhook hear of it", async function () {
      const billId = issueBill(water);
      const inquiryId = await inquired(billId);
      const correlationId = newCorrelationId();
      const requestId = newRequestId();
      const accepted = await pay(billId, inquiryId, { correlationId, requestId });
      assert.equal(accepted.status, 202, JSON.stringify(accepted.body));
      assert.equal(accepted.body.responseCode, '00');
      assert.equal(accepted.body.requestID, requestId);
      assert.match(accepted.body.reason, new RegExp(`payment of bill ${billId} accepted`));

      const [stored] = await ordersOfBill(billId);
      const order = await orderReaching(billerReader, stored!.id, 'completed');
      assert.equal(order.kind, 'fee');
      assert.equal(order.amount, '150.50');
      assert.equal(order.currency, 'KES');
      assert.deepEqual(order.payer, CITY_BANK_SETTLEMENT);
      assert.deepEqual(order.payee, WATER_ACCOUNT);
      assert.equal(order.rail, 'sandbox');
      assert.equal(order.metadata.bill.bill_id, billId);
      assertProblem(await payer.get(`/v1/orders/${stored!.id}`), 403, 'insufficient_scope');
      assertProblem(await apiClient(kassa.url, await kassa.issueKey('p2g-city-bank', ['orders:read'])).get(`/v1/orders/${stored!.id}`), 404, 'not_found');

      const row = await noticeReaching(stored!.payment_id, 'acknowledged');
      assert.equal(row.notice_attempts, 1);
      const notices = billSource.noticesAbout(billId);
      assert.equal(notices.length, 1);
      assert.deepEqual(notices[0]!.body, { requestID: requestId, billId, PaymentReferenceID: `REF-${billId}`, amount: '150.50', currency: 'KES' });
      assert.equal(notices[0]!.headers['x-platform-tenantid'], TENANT);
      assert.equal(notices[0]!.headers['x-payerfi-id'], cityBank);
      assert.match(String(notices[0]!.headers['x-correlationid']), /^[0-9a-f]{32}$/);
      assert.match(String(notices[0]!.headers['kassa-signature']), /^t=\d+,v1=[0-9a-f]{64}$/, "signed with the biller organisation's webhook secret");

      const [told] = await payerEndpoint.waitFor(billId);
      assert.deepEqual(JSON.parse(told!.text), { requestId, billId, status: 'ACK' });
      assert.equal(told!.headers['x-correlationid'], correlationId);
      assert.equal(told!.headers['x-payerfi-id'], cityBank);

      const [webhook] = await billerWebhooks.waitFor(billId, 1, 10_000);
      const event = JSON.parse(webhook!.text);
      assert.equal(event.type, 'order.completed');
      assert.equal(event.data.id, stored!.id);

      const afterwards = await inquire(billId);
      assert.equal(afterwards.body.billDetails.billStatus, 'PAID', "Kassa's word comes first, whatever the biller's records say");
    });

    it('when a paid bill is paid again, then GovStack\'s refusal comes and no second order is written; the same X-CorrelationID and body answer the same, other content is refused', async function () {
      const billId = issueBill(water);
      const inquiryId = await inquired(billId);
      const correlationId = newCorrelationId();
      const requestId = newRequestId();
      const first = await pay(billId, inquiryId, { correlationId, requestId });
      assert.equal(first.status, 202, JSON.stringify(first.body));

      const replay = await pay(billId, inquiryId, { correlationId, requestId });
      assert.equal(replay.status, 202);
      assert.deepEqual(replay.body, first.body);
      assert.equal(replay.headers.get('idempotent-replayed'), 'true');
      assertRefusal(await pay(billId, inquiryId, { correlationId, requestId: newRequestId() }), 409, /X-CorrelationID was already used/);

      const again = await assertNothingWritten(db(), () => pay(billId, inquiryId), ['orders', 'bill_payments']);
      assertRefusal(again, 409, new RegExp(`bill ${billId} is already paid, or a payment of it is under way`));
      assert.equal((await ordersOfBill(billId)).length, 1);
      await orderReaching(billerReader, (await ordersOfBill(billId))[0]!.id, 'completed');
      assertRefusal(await pay(billId, await inquired(billId)), 409, /already paid/);
      assert.equal((await ordersOfBill(billId)).length, 1);
    });

    it('when two payments of one bill arrive at once, then one is accepted and the other refused, and one order is written', async function () {
      for (let round = 0; round < 3; round++) {
        const billId = issueBill(water);
        const inquiryId = await inquired(billId);
        const answers = await Promise.all([pay(billId, inquiryId), pay(billId, inquiryId), pay(billId, inquiryId)]);
        assert.deepEqual(answers.map((answer) => answer.status).sort(), [202, 409, 409], JSON.stringify(answers.map((answer) => answer.body)));
        for (const refused of answers.filter((answer) => answer.status === 409)) assert.match(refused.body.reason, /already paid, or a payment of it is under way/);
        assert.equal((await ordersOfBill(billId)).length, 1);
      }
    });

    it('when the fee order fails, then the biller is told nothing and the bill is payable again', async function () {
      const billId = issueBill(closed);
      const inquiryId = await inquired(billId);
      assert.equal((await pay(billId, inquiryId)).status, 202);
      const [failed] = await ordersOfBill(billId);
      const order = await orderReaching(billerReader, failed!.id, 'failed');
      assert.equal(order.failure.code, 'AC04');
      await noticeReaching(failed!.payment_id, 'not_due');
      assert.equal((await inquire(billId)).body.billDetails.billStatus, 'UNPAID');

      const retried = await pay(billId, inquiryId);
      assert.equal(retried.status, 202, JSON.stringify(retried.body));
      const orders = await ordersOfBill(billId);
      assert.equal(orders.length, 2);
      assert.notEqual(orders[1]!.id, failed!.id);
      assert.ok((await paymentRow(failed!.payment_id)).released_at instanceof Date);
      await orderReaching(billerReader, orders[1]!.id, 'failed');
      assert.equal(billSource.noticesAbout(billId).length, 0);
    });
  });

  describe('mark-paid notices (store and forward)', function () {
    it('when the biller is down during mark-paid and comes back, then the notice is delivered exactly once, under one X-CorrelationID', async function () {
      billSource.noticeAnswer = 'down';
      let paid: Awaited<ReturnType<typeof paidBill>> | undefined;
      try {
        paid = await paidBill();
        const { billId } = paid;
        await eventually(async () => (billSource.noticesAbout(billId).length >= 3 ? true : undefined), { what: 'three refused notices' });
        const refusedRow = await paymentRow(paid.paymentId);
        assert.equal(refusedRow.notice_status, 'forwarding');
        assert.equal(refusedRow.notice_last_status, 503);
      } finally {
        billSource.noticeAnswer = 'ACK';
      }
      const row = await noticeReaching(paid.paymentId, 'acknowledged');
      const notices = billSource.noticesAbout(paid.billId);
      assert.equal(row.notice_attempts, notices.length);
      await sleep(1500);
      assert.equal(billSource.noticesAbout(paid.billId).length, notices.length, 'nothing is sent once the biller took it');
      assert.deepEqual(notices.map((notice) => notice.answeredWith), [...notices.slice(0, -1).map(() => 503), 202]);
      assert.equal(new Set(notices.map((notice) => notice.headers['x-correlationid'])).size, 1);
    });

    it('when Kassa holds the biller\'s register, then the inquiry is answered from it and the paid bill is acknowledged without a call out', async function () {
      const code = `REG${randomBytes(3).toString('hex').toUpperCase()}`;
      const billerId = randomUUID();
      const organisationId = (await db()('organisations').where({ name: 'p2g-water-board' }).first()).id as string;
      await db().transaction(async (trx) => {
        await insertBiller(trx, { id: billerId, organisationId, code, name: 'Rates Office', currency: 'KES', account: { type: 'iban', value: WATER_ACCOUNT.value }, billSourceUrl: null });
        assert.deepEqual(await claimBillerPrefixes(trx, billerId, [`${code}-`]), []);
        await putHostedBills(trx, billerId, [{ billId: `${code}-1`, currency: 'KES', amountOnDueMinor: 4200n, amountAfterDueMinor: null, dueAt: null, description: 'rates' }]);
      });
      const correlationId = newCorrelationId();
      const inquiry = await inquire(`${code}-1`, correlationId);
      assert.equal(inquiry.status, 200, JSON.stringify(inquiry.body));
      assert.equal(inquiry.body.billDetails.amountonDueDate, 42);

      const accepted = await pay(`${code}-1`, correlationId);
      assert.equal(accepted.status, 202, JSON.stringify(accepted.body));
      const [order] = await ordersOfBill(`${code}-1`);
      assert.equal(order!.amount_minor, '4200');
      await orderReaching(billerReader, order!.id, 'completed');
      const row = await noticeReaching(order!.payment_id, 'acknowledged');
      assert.equal(row.notice_attempts, 1);
      assert.equal(row.notice_last_status, null, 'no biller endpoint was called');
      const answers = await eventually(async () => {
        const received = payerEndpoint.pushes.filter((push) => JSON.parse(push.text).billId === `${code}-1`);
        return received.length > 0 ? received : undefined;
      }, { what: 'the ACK to reach the payer' });
      assert.equal(JSON.parse(answers[0]!.text).status, 'ACK');
    });

    it('when the biller takes the notice and answers later on POST /billTransferRequests, then its RJC is recorded once and reaches the payer', async function () {
      billSource.noticeAnswer = 'taken';
      let paid: Awaited<ReturnType<typeof paidBill>> | undefined;
      try {
        paid = await paidBill();
        await noticeReaching(paid.paymentId, 'delivered');
      } finally {
        billSource.noticeAnswer = 'ACK';
      }
      const { billId, requestId } = paid;
      const answer = (api: Api, body: Record<string, unknown>) => api.call('POST', '/billTransferRequests', {
        body: { requestId, billId, ...body }, headers: { 'X-CorrelationID': newCorrelationId(), 'X-Platform-TenantId': TENANT },
      });
      assertRefusal(await answer(otherBiller, { status: 'RJC', rejectReason: 'Dup' }), 404, /no paid bill/);
      assertRefusal(await answer(biller, { status: 'RJC', rejectReason: 'Maybe' }), 400, /rejectReason must be one of Def, Dup, Und/);
      assertProblem(await answer(payer, { status: 'ACK' }), 403, 'insufficient_scope');

      const recorded = await answer(biller, { status: 'RJC', rejectReason: 'Dup' });
      assert.equal(recorded.status, 202, JSON.stringify(recorded.body));
      assert.deepEqual(recorded.body, { responseCode: '00', reason: `RJC recorded for bill ${paid.billId}`, requestID: paid.requestId });
      const row = await paymentRow(paid.paymentId);
      assert.equal(row.notice_status, 'rejected');
      assert.equal(row.notice_reject_reason, 'Dup');
      const [told] = await payerEndpoint.waitFor(paid.billId);
      assert.deepEqual(JSON.parse(told!.text), { requestId: paid.requestId, billId: paid.billId, status: 'RJC', rejectReason: 'Dup' });

      assert.equal((await answer(biller, { status: 'RJC', rejectReason: 'Dup' })).status, 202, 'the same answer again changes nothing');
      assertRefusal(await answer(biller, { status: 'ACK' }), 409, /was rejected already/);
      assert.equal(billSource.noticesAbout(paid.billId).length, 1);
      await sleep(300);
      assert.equal(payerEndpoint.about(paid.billId).length, 1);
    });
  });

  describe('request to pay', function () {
    it("when a biller requests payment, then the payer institution is asked, its acceptance reaches the biller, and the request completes when the bill is paid", async function () {
      const { rtpId, requestId, billId } = await requestedToPay({ amount: 80 });
      const [asked] = await payerEndpoint.waitFor(requestId);
      const sent = JSON.parse(asked!.text);
      assert.equal(sent.TxnID, requestId);
      assert.equal(sent.rTPID, rtpId);
      assert.deepEqual(sent.billDetails, { 'Bill ID': billId, 'Biller Name': 'Water Board', Amount: 80, Currency: 'KES' });
      assert.equal(sent.financialAddress, '+254711000111');
      assert.equal(asked!.headers['x-billerid'], water);
      assert.equal(asked!.headers['x-platform-tenantid'], TENANT);

      const pending = await rtpStatus(rtpId);
      assert.equal(pending.status, 200, JSON.stringify(pending.body));
      assert.equal(pending.body.requestStatus, 'PND');
      assert.equal(pending.body.RequestId, requestId);
      assert.equal(pending.body.rtpId, rtpId);

      const accepted = await rtpResponse({ txnId: requestId, rtpId, billId, rtpStatus: '00' });
      assert.equal(accepted.status, 200, JSON.stringify(accepted.body));
      assert.equal(accepted.body.responseCode, '00');
      const [update] = await billerCallbacks.waitFor(requestId);
      assert.deepEqual(JSON.parse(update!.text), { requestId, rtpId, billId, rtpStatus: '00' });
      assert.equal(update!.headers['x-billerid'], water);
      assertRefusal(await rtpResponse({ rtpId, billId, rtpStatus: '01' }), 409, /is accepted; it can be answered once/, 'responseDescription');

      const paid = await pay(billId, requestId);
      assert.equal(paid.status, 202, JSON.stringify(paid.body));
      const [order] = await ordersOfBill(billId);
      assert.equal((await orderReaching(billerReader, order!.id, 'completed')).amount, '80.00');
      const complete = await eventually(async () => {
        const status = await rtpStatus(rtpId);
        return status.body.requestStatus === 'COM' ? status.body : undefined;
      }, { what: `request to pay ${rtpId} to complete` });
      assert.equal(complete.PaymentReferenceID, `REF-${billId}`);
      assert.ok(complete.lastUpdateDate >= pending.body.lastUpdateDate);
    });

    it('when the payer rejects it or the biller cancels it, then it says RJC or CAN and can be neither answered nor paid', async function () {
      const rejected = await requestedToPay();
      assert.equal((await rtpResponse({ rtpId: rejected.rtpId, billId: rejected.billId, rtpStatus: '01', rejectReason: 'R' })).status, 200);
      const [update] = await billerCallbacks.waitFor(rejected.requestId);
      assert.deepEqual(JSON.parse(update!.text), { requestId: rejected.requestId, rtpId: rejected.rtpId, billId: rejected.billId, rtpStatus: '01', rejectReason: 'R' });
      assert.equal((await rtpStatus(rejected.rtpId)).body.requestStatus, 'RJC');
      assertRefusal(await pay(rejected.billId, rejected.requestId), 409, /request to pay .* is rejected/);

      const cancelled = await requestedToPay();
      const withdrawn = await biller.call('DELETE', `/transferRequests/${cancelled.rtpId}`, { headers: billerHeaders(newCorrelationId()) });
      assert.equal(withdrawn.status, 200, JSON.stringify(withdrawn.body));
      assert.equal(withdrawn.body.requestStatus, 'CAN');
      assert.equal((await biller.call('DELETE', `/transferRequests/${cancelled.rtpId}`, { headers: billerHeaders(newCorrelationId()) })).body.requestStatus, 'CAN');
      assertRefusal(await rtpResponse({ rtpId: cancelled.rtpId, billId: cancelled.billId, rtpStatus: '00' }), 409, /is cancelled/, 'responseDescription');
      assertRefusal(await pay(cancelled.billId, cancelled.requestId), 409, /is cancelled/);
      assert.equal((await ordersOfBill(cancelled.billId)).length, 0);
    });

    it('when its time runs out unanswered, then it is EXP and can be neither answered nor paid', async function () {
      const lapsing = await requestedToPay({ expiresAt: new Date(Date.now() + 1500).toISOString() });
      assert.equal((await rtpStatus(lapsing.rtpId)).body.requestStatus, 'PND');
      await eventually(async () => ((await rtpStatus(lapsing.rtpId)).body.requestStatus === 'EXP' ? true : undefined), { what: 'the request to expire' });
      assertRefusal(await rtpResponse({ rtpId: lapsing.rtpId, billId: lapsing.billId, rtpStatus: '00' }), 409, /is expired/, 'responseDescription');
      assertRefusal(await pay(lapsing.billId, lapsing.requestId), 409, /is expired/);
      assert.equal((await ordersOfBill(lapsing.billId)).length, 0);
    });

    it('when a request reuses an rtpId, names a payer institution that takes none, or a bill not of the biller, then it is refused and nothing is sent', async function () {
      const { rtpId, requestId } = await requestedToPay();
      await payerEndpoint.waitFor(requestId);
      const sentBefore = payerEndpoint.pushes.length;
      assertRefusal(await rtpRequest({ requestId: newRequestId(), rtpId, billID: newBillId(prefixOf(water)) }), 409, /used rtpId/, 'responseDescription');
      assertRefusal(await rtpRequest({ requestId: newRequestId(), rtpId: ++rtpCounter, billID: newBillId(prefixOf(water)), payerFiDetails: { payerFIBIC: silentBank } }), 422, /takes no requests to pay/, 'responseDescription');
      assertRefusal(await rtpRequest({ requestId: newRequestId(), rtpId: ++rtpCounter, billID: 'ELSEWHERE-1' }), 400, /does not start with a prefix of biller/, 'responseDescription');
      assertRefusal(await rtpRequest({ requestId: newRequestId(), rtpId: ++rtpCounter, billID: newBillId(prefixOf(water)), requestType: '01', payerFiDetails: undefined, alias: { aliasType: '00', aliasId: 'nobody' } }), 404, /knows no payer institution for alias nobody/, 'responseDescription');
      await sleep(200);
      assert.equal(payerEndpoint.pushes.length, sentBefore);
    });
  });

  describe('bills paid with a voucher (/voucherRedemption)', function () {
    /** Vouchers of the agency, activated: their serial and secret numbers. */
    async function activeVouchers(amount: number, count = 1): Promise<{ serialNumber: string; voucherNumber: string }[]> {
      const issued = await voucherIssuer.call('POST', '/vouchers', {
        body: { requestID: newRequestId(), batchID: 'P2G', voucherInstructions: Array.from({ length: count }, () => ({ instructionID: newRequestId(), groupCode: 'UTIL', currency: 'KES', amount })) },
        headers: { 'X-Callback-URL': payerEndpoint.url },
      });
      assert.equal(issued.status, 200, JSON.stringify(issued.body));
      const vouchers = issued.body.voucherInstructions as { serialNumber: string; voucherNumber: string }[];
      const activated = await voucherIssuer.call('PUT', '/vouchers?command=activate', { body: { RequestID: newRequestId(), VoucherInstructions: vouchers.map((voucher) => ({ serialNumber: voucher.serialNumber })) } });
      assert.equal(activated.status, 200, JSON.stringify(activated.body));
      return vouchers;
    }
    const voucherStatus = async (serialNumber: string) => (await db()('vouchers').where({ serial_number: serialNumber }).first()).status as string;
    const agencyHeaders = () => ({ 'X-PayerFI-Id': voucherAgencyPoint });
    const payWithVoucher = (billId: string, billInquiryRequestId: string, voucherNumber: string, options: { correlationId?: string; requestId?: string; api?: Api } = {}) =>
      (options.api ?? voucherPoint).call('POST', '/voucherRedemption', {
        body: { requestId: options.requestId ?? newRequestId(), billInquiryRequestId, billId, billDetails: { billerId: voucherBiller, amountonDueDate: 10 }, VoucherSecretHash: voucherNumber },
        headers: payerHeaders(options.correlationId ?? newCorrelationId(), agencyHeaders()),
      });
    const voucherBill = () => issueBill(voucherBiller, { amountonDueDate: 10, amountAfterDueDate: 12 });

    it("when a bill is paid with a voucher worth what it owes, then the voucher is redeemed once, its payout reaches the biller's account and the biller is told", async function () {
      const billId = voucherBill();
      const inquiryId = await inquired(billId, voucherPoint, agencyHeaders());
      const [voucher] = await activeVouchers(10);
      const correlationId = newCorrelationId();
      const requestId = newRequestId();
      const paid = await payWithVoucher(billId, inquiryId, voucher!.voucherNumber, { correlationId, requestId });
      assert.equal(paid.status, 202, JSON.stringify(paid.body));
      assert.equal(paid.body.code, '00');
      assert.match(paid.body.reason, new RegExp(`bill ${billId} paid with voucher ${voucher!.serialNumber}`));
      assert.equal(await voucherStatus(voucher!.serialNumber), 'redeemed');

      const [payment] = await ordersOfBill(billId);
      assert.equal(payment!.amount_minor, '1000');
      assert.deepEqual(payment!.payee, VOUCHER_BILLER_ACCOUNT);
      await orderReaching(voucherIssuer, payment!.id, 'completed');
      await noticeReaching(payment!.payment_id, 'acknowledged');
      assert.equal(billSource.noticesAbout(billId).length, 1);
      assert.equal((await inquire(billId, newCorrelationId(), voucherPoint, agencyHeaders())).body.billDetails.billStatus, 'PAID');

      const again = await payWithVoucher(billId, inquiryId, voucher!.voucherNumber, { correlationId, requestId });
      assert.equal(again.status, 202);
      assert.deepEqual(again.body, paid.body);
      assert.equal(again.headers.get('idempotent-replayed'), 'true');
      assert.equal((await payWithVoucher(billId, inquiryId, voucher!.voucherNumber, { correlationId })).body.reason, 'Conflict: this X-CorrelationID was already used for another request');
      const [fresh] = await activeVouchers(10);
      const twice = await payWithVoucher(billId, inquiryId, fresh!.voucherNumber);
      assert.equal(twice.status, 409, JSON.stringify(twice.body));
      assert.equal(twice.body.code, '01');
      assert.match(twice.body.reason, /already paid/);
      assert.equal(await voucherStatus(fresh!.serialNumber), 'activated', 'a refused payment leaves the voucher as it was');
      assert.equal((await ordersOfBill(billId)).length, 1);
    });

    it('when the biller\'s code is longer than a merchant code, then a bill paid with a voucher pays out to the merchant the agency linked to the biller', async function () {
      const billId = issueBill(longBiller, { amountonDueDate: 10, amountAfterDueDate: 12 });
      const inquiryId = await inquired(billId, voucherPoint, agencyHeaders());
      const [voucher] = await activeVouchers(10);
      const paid = await voucherPoint.call('POST', '/voucherRedemption', {
        body: { requestId: newRequestId(), billInquiryRequestId: inquiryId, billId, billDetails: { billerId: longBiller, amountonDueDate: 10 }, VoucherSecretHash: voucher!.voucherNumber },
        headers: payerHeaders(newCorrelationId(), agencyHeaders()),
      });
      assert.equal(paid.status, 202, JSON.stringify(paid.body));
      assert.equal(await voucherStatus(voucher!.serialNumber), 'redeemed');
      const [payment] = await ordersOfBill(billId);
      assert.deepEqual(payment!.payee, LINKED_MERCHANT_ACCOUNT, "paid at the linked merchant's registered account");
      await orderReaching(voucherIssuer, payment!.id, 'completed');
      await noticeReaching(payment!.payment_id, 'acknowledged');
    });

    it('when the voucher is worth another amount or was used, then it is refused with its GovStack code, and the bill stays payable', async function () {
      const billId = voucherBill();
      const inquiryId = await inquired(billId, voucherPoint, agencyHeaders());
      const [small] = await activeVouchers(5);
      const refused = await assertNothingWritten(db(), () => payWithVoucher(billId, inquiryId, small!.voucherNumber), ['orders', 'bill_payments', 'voucher_events']);
      assert.equal(refused.status, 452, JSON.stringify(refused.body));
      assert.equal(refused.body.code, '452');
      assert.match(refused.body.reason, /^Invalid amount: the voucher is worth 5.00, the bill owes 10.00/);
      assert.equal(await voucherStatus(small!.serialNumber), 'activated');

      const [used] = await activeVouchers(10);
      const other = voucherBill();
      assert.equal((await payWithVoucher(other, await inquired(other, voucherPoint, agencyHeaders()), used!.voucherNumber)).status, 202);
      const reused = await payWithVoucher(billId, inquiryId, used!.voucherNumber);
      assert.equal(reused.status, 458, JSON.stringify(reused.body));
      assert.equal(reused.body.code, '458');
      const [released] = await ordersOfBill(billId);
      assert.equal(released, undefined, 'a refused redemption made no order');
      assert.ok((await db()('bill_payments').where({ bill_id: billId }).first()).released_at instanceof Date, 'the bill was claimed, then released');
      assert.equal((await inquire(billId, newCorrelationId(), voucherPoint, agencyHeaders())).body.billDetails.billStatus, 'UNPAID');

      const [right] = await activeVouchers(10);
      assert.equal((await payWithVoucher(billId, inquiryId, right!.voucherNumber)).status, 202);
      assertProblem(await payWithVoucher(billId, inquiryId, right!.voucherNumber, { api: payer }), 403, 'insufficient_scope');
    });

    it('when the answer of a redemption was lost, then the workers find its payout by the voucher and the bill is paid and told', async function () {
      const billId = voucherBill();
      const inquiryId = await inquired(billId, voucherPoint, agencyHeaders());
      const [voucher] = await activeVouchers(10);
      const context = kassa.runtime.context;
      const agency = (await db()('organisations').where({ name: 'p2g-voucher-agency' }).first()).id as string;
      const point = await db()('payer_institutions').where({ code: voucherAgencyPoint }).first();
      const inquiry = await db()('bill_inquiries').where({ organisation_id: agency, correlation_id: inquiryId }).first();
      const paymentId = randomUUID();
      // What the API wrote before it died: the claim of the bill, and the redemption it asked for; never the order.
      assert.ok(await claimBill(db(), {
        id: paymentId, billerId: inquiry.biller_id, billId, orderId: null, voucherNumberHash: hashVoucherNumber(voucher!.voucherNumber, voucherNumberKey(context.config)),
        organisationId: agency, payerInstitutionId: point.id, inquiryId: inquiry.id, transferRequestId: null, requestId: newRequestId(), correlationId: newCorrelationId(),
        tenantId: TENANT, paymentReference: 'voucher', callbackUrl: null,
      }));
      const client = await db()('api_clients').where({ organisation_id: agency }).whereRaw(`'vouchers:redeem' = ANY(scopes)`).first();
      const redeemed = await voucherRedemption(context)(
        { clientId: client.id, clientName: client.name, organisationId: agency, scopes: ['bills:pay', 'vouchers:redeem'] }, { sourceIp: null, requestId: 'test' },
        { voucherNumber: voucher!.voucherNumber, merchant: { code: voucherBiller }, override: false, requestId: voucherRedemptionRequestId(paymentId), auditDetail: {} },
      );
      await context.queues.followBillPayments([{ paymentId, attempt: 0 }]);

      const row = await noticeReaching(paymentId, 'acknowledged');
      assert.equal(row.order_id, redeemed.orderId);
      assert.equal(billSource.noticesAbout(billId).length, 1);
    });
  });

  describe('headers', function () {
    it('when a required header is missing, then 400 names it in GovStack\'s shape; names are matched whatever their case, in either spelling the files use', async function () {
      const billId = issueBill(water);
      assertRefusal(await inquire(billId, newCorrelationId(), payer, { 'X-CorrelationID': undefined }), 400, /header X-CorrelationID is required/);
      assertRefusal(await inquire(billId, newCorrelationId(), payer, { 'X-Platform-TenantId': undefined }), 400, /header X-Platform-TenantId is required/);
      assertRefusal(await inquire(billId, newCorrelationId(), payer, { 'X-PayerFI-Id': undefined }), 400, /header X-PayerFI-Id is required/);
      const spelledOtherwise = await payer.get(`/bills/${billId}`, { 'x-correlationid': newCorrelationId(), 'PLATFORM-TENANTID': TENANT, 'payerfi-id': cityBank });
      assert.equal(spelledOtherwise.status, 200, JSON.stringify(spelledOtherwise.body));

      const refused = await assertNothingWritten(db(), () => pay(billId, newCorrelationId(), { headers: { 'X-PayerFI-Id': undefined }, body: { paymentReferenceID: undefined } }), ['orders', 'bill_payments']);
      assertRefusal(refused, 400, /header X-PayerFI-Id is required; paymentReferenceID is required/);

      assertRefusal(await rtpRequest({ requestId: newRequestId(), rtpId: ++rtpCounter, billID: billId }, { headers: { 'X-billerId': undefined, 'X-Callback-URL': undefined } }), 400, /header X-billerId is required; header X-Callback-URL is required/, 'responseDescription');
      assertRefusal(await rtpResponse({ rtpId: 1, billId, rtpStatus: '00' }, { headers: { 'X-billerId': undefined } }), 400, /header X-billerId is required/, 'responseDescription');
      assertRefusal(await rtpStatus(1, biller, { 'X-Platform-TenantId': undefined }), 400, /header X-Platform-TenantId is required/);
    });
  });

  describe('tenancy and scopes', function () {
    it("when one organisation names another's payer institution, inquiry, biller or request to pay, then it is not found; a credential without the scope is refused", async function () {
      const billId = issueBill(water);
      const inquiryId = await inquired(billId);
      assertRefusal(await inquire(billId, newCorrelationId(), otherPayer), 404, new RegExp(`payer institution ${cityBank} is not linked to this organisation`));
      assertRefusal(await pay(billId, inquiryId, { api: otherPayer, headers: { 'X-PayerFI-Id': otherBank } }), 404, /no bill inquiry or request to pay/);
      assertProblem(await inquire(billId, newCorrelationId(), biller), 403, 'insufficient_scope');
      assertProblem(await pay(billId, inquiryId, { api: biller }), 403, 'insufficient_scope');

      const { rtpId, billId: requestedBill } = await requestedToPay();
      assertRefusal(await rtpStatus(rtpId, otherBiller), 404, new RegExp(`biller ${water} is not registered to this organisation`));
      assertRefusal(await rtpStatus(rtpId, biller, { 'X-billerId': taxes }), 404, new RegExp(`biller ${taxes} is not registered to this organisation`));
      assertRefusal(await rtpRequest({ requestId: newRequestId(), rtpId: ++rtpCounter, billID: newBillId(prefixOf(water)) }, { api: otherBiller }), 404, /not registered to this organisation/, 'responseDescription');
      assertRefusal(await rtpResponse({ rtpId, billId: requestedBill, rtpStatus: '00' }, { api: otherPayer }), 404, /was sent to this organisation's payer institutions/, 'responseDescription');
      assertProblem(await rtpResponse({ rtpId, billId: requestedBill, rtpStatus: '00' }, { api: biller }), 403, 'insufficient_scope');
      assert.equal((await rtpStatus(rtpId)).body.requestStatus, 'PND', 'nothing another organisation did changed it');
    });
  });
});

function withoutUndefined(headers: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).filter((entry): entry is [string, string] => entry[1] !== undefined));
}
