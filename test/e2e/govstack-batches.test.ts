import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { finalPush, msisdn, newFunctionalId, newRequestId, PROGRAM_FUNDING, startGovStackKassa } from '../support/govstack.ts';
import type { apiClient, JsonResponse } from '../support/http.ts';
import { eventually, type TestKassa } from '../support/kassa.ts';
import type { PushReceiver } from '../support/push-receiver.ts';

type Api = ReturnType<typeof apiClient>;

const INSTITUTION = 'SOCIALREG001';
const TENANT = 'ministry';

function instruction(requestId: string, credit: { key: string; value: string }[], overrides: Record<string, unknown> = {}) {
  return { requestId, creditParty: credit, debitParty: [], paymentMode: 'mojaloop', amount: 10, currency: 'KES', descriptionText: 'child grant', ...overrides };
}

function assertRefusal(response: JsonResponse, status: number, requestId: string, names: RegExp): void {
  assert.equal(response.status, status, JSON.stringify(response.body));
  assert.match(response.contentType, /^application\/json/);
  assert.equal(response.body.ResponseCode, '01');
  assert.equal(response.body.RequestID, requestId);
  assert.match(response.body.ResponseDescription, names);
}

describe('GovStack v3 bulk payments (e2e: /batchtransactions, /api/v1/batch, /api/v1/batch/detail)', function () {
  let kassa: TestKassa;
  let receiver: PushReceiver;
  let agency: Api;
  let stranger: Api;

  before(async function () {
    ({ kassa, receiver, agency, stranger } = await startGovStackKassa({
      callbackPath: '/sbb/callback',
      requestIdField: 'registerRequestID',
      organisations: { agency: 'gs-ministry', stranger: 'gs-other-ministry' },
      programs: [['CHILD', '1000000.00'], ['ELDER', '1000000.00'], ['POOR', '5.00']].map(([code, budget]) =>
        ({ code, name: `${code} grant`, budget, approval_threshold: '900000.00', default: code === 'CHILD' })),
    }));
  });

  after(async function () {
    await kassa?.stop();
    await receiver?.close();
  });

  /** Registers beneficiaries through the v3 account mapper, each paid to its MSISDN. */
  async function register(beneficiaries: { id: string; phone: string }[], institution = INSTITUTION): Promise<void> {
    const requestId = newRequestId();
    const answer = await agency.call('POST', '/identityAccountMapper/beneficiary', {
      body: { RequestID: requestId, Beneficiaries: beneficiaries.map((b) => ({ payeeIdentity: b.id, PaymentModality: '01', FinancialAddress: b.phone })) },
      headers: { 'X-Callback-URL': receiver.url, 'X-Registering-Institution-ID': institution },
    });
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    assert.match(answer.body.responseDescription, new RegExp(`${beneficiaries.length} of ${beneficiaries.length} beneficiaries registered`));
  }

  const headers = (correlationId: string, overrides: Record<string, string | undefined> = {}) => {
    const all: Record<string, string | undefined> = {
      'X-CorrelationID': correlationId, 'Platform-TenantId': TENANT, 'X-Callback-URL': receiver.url, 'X-Registering-Institution-Id': INSTITUTION, ...overrides,
    };
    return Object.fromEntries(Object.entries(all).filter((entry): entry is [string, string] => entry[1] !== undefined));
  };
  const submit = (api: Api, body: unknown, correlationId: string, overrides: Record<string, string | undefined> = {}, type = 'raw') =>
    api.call('POST', `/batchtransactions?type=${type}`, { body, headers: headers(correlationId, overrides) });
  const submitCsv = (csv: string, correlationId: string, contentType = 'text/csv') =>
    agency.call('POST', '/batchtransactions?type=csv', { rawBody: csv, headers: { ...headers(correlationId), 'content-type': contentType } });
  const detail = (api: Api, query: string, tenant: string | null = TENANT) => api.get(`/api/v1/batch/detail?${query}`, tenant === null ? {} : { 'Platform-TenantId': tenant });
  const batchCount = async () => Number((await kassa.runtime.context.db('batches').count({ count: '*' }))[0]!.count);


  it('when a raw batch names payees by functional ID and by MSISDN, then 202 gives its batchId, it is paid, and the final callback and the summary add up', async function () {
    const [paid, declined, elsewhere, unknown] = [newFunctionalId(), newFunctionalId(), newFunctionalId(), newFunctionalId()];
    await register([{ id: paid, phone: msisdn() }, { id: declined, phone: msisdn('0000') }]);
    await register([{ id: elsewhere, phone: msisdn() }], 'OTHERINST001');
    const direct = msisdn();
    const correlationId = randomUUID();
    const body = [
      instruction('INS-PAID-1', [{ key: 'FUNCTIONAL_ID', value: paid }]),
      instruction('INS-DECLINED-2', [{ key: 'payeeIdentity', value: declined }], { amount: 12.5 }),
      instruction('INS-ELSEWHERE-3', [{ key: 'FUNCTIONAL_ID', value: elsewhere }]),
      instruction('INS-UNKNOWN-4', [{ key: 'FUNCTIONAL_ID', value: unknown }]),
      instruction('INS-MSISDN-5', [{ key: 'MSISDN', value: direct }], { amount: 7.25 }),
      instruction('INS-AM04-6', [{ key: 'msisdn', value: msisdn('0001') }], { debitParty: [{ key: 'IBAN', value: PROGRAM_FUNDING.value }] }),
    ];
    const accepted = await submit(agency, body, correlationId);
    assert.equal(accepted.status, 202, JSON.stringify(accepted.body));
    assert.deepEqual(Object.keys(accepted.body), ['batchId']);
    const { batchId } = accepted.body as { batchId: string };

    const { push, body: final } = await finalPush(receiver, batchId);
    const target = new URL(push.target, 'http://receiver');
    assert.equal(target.pathname, '/sbb/callback');
    assert.equal(target.searchParams.get('batchId'), batchId);
    assert.equal(target.searchParams.get('X-CorrelationID'), correlationId);
    assert.equal(final.requestId, correlationId);
    assert.equal(final.TotalTransactions, 6);
    assert.equal(final.completed, 2);
    assert.equal(final.failed, 4);
    assert.equal(final.ongoing, 0);
    assert.equal(final.completed + final.failed + final.ongoing, final.TotalTransactions);
    assert.equal(final.completed_amount, 17.25);
    assert.equal(final.failed_amount, 22.5);
    assert.equal(final.totalAmount, 39.75, 'the total of the payments that passed validation');
    assert.equal(final.completed_amount + final.failed_amount + final.ongoing_amount, final.totalAmount);
    assert.equal(final.result_file, null);
    assert.ok(!Number.isNaN(Date.parse(final.resultGeneratedAt)));

    const summary = await agency.get(`/api/v1/batch?batchId=${batchId}`);
    assert.equal(summary.status, 200, JSON.stringify(summary.body));
    const { resultGeneratedAt: _pushedAt, ...pushed } = final;
    const { resultGeneratedAt: _askedAt, ...asked } = summary.body;
    assert.deepEqual(asked, pushed);
    assert.equal((await agency.get(`/api/v1/batch?X-CorrelationID=${correlationId}`)).body.batchId, batchId);

    const all = await detail(agency, `batchId=${batchId}`);
    assert.equal(all.status, 200, JSON.stringify(all.body));
    assert.equal(all.body.length, 6);
    const byRequest = Object.fromEntries(all.body.map((item: { requestId: string }) => [item.requestId, item]));
    assert.deepEqual(
      Object.fromEntries(all.body.map((item: { requestId: string; status: string; statusDetail?: string }) => [item.requestId, [item.status, item.statusDetail ?? null]])),
      {
        'INS-PAID-1': ['COMPLETED', null],
        'INS-DECLINED-2': ['FAILED', 'AC04'],
        'INS-ELSEWHERE-3': ['FAILED', 'unknown_beneficiary'],
        'INS-UNKNOWN-4': ['FAILED', 'unknown_beneficiary'],
        'INS-MSISDN-5': ['COMPLETED', null],
        'INS-AM04-6': ['FAILED', 'AM04'],
      },
    );
    const completed = byRequest['INS-PAID-1'];
    assert.match(completed.transactionId, /^[0-9a-f-]{36}$/, 'a payment is known by its order id');
    assert.equal(completed.payeePartyId, paid, 'the payee is shown as it was given, not as the account it resolved to');
    assert.equal(completed.payeePartyIdType, 'FUNCTIONAL_ID');
    assert.equal(completed.amount, 10);
    assert.equal(completed.currency, 'KES');
    assert.equal(completed.direction, 'OUTGOING');
    assert.equal(completed.batchId, batchId);
    assert.ok(Date.parse(completed.completedAt) >= Date.parse(completed.startedAt));
    const unknownRow = byRequest['INS-UNKNOWN-4'];
    assert.equal(unknownRow.transactionId, 'INS-UNKNOWN-4', 'an instruction that never became a payment is known by its id');
    assert.equal(unknownRow.errorInformation, 'no beneficiary is registered under this functional ID');
    assert.equal(unknownRow.startedAt, undefined);
    assert.deepEqual([byRequest['INS-MSISDN-5'].payeePartyIdType, byRequest['INS-MSISDN-5'].payeePartyId, byRequest['INS-MSISDN-5'].amount], ['MSISDN', direct, 7.25]);
    assert.equal(byRequest['INS-DECLINED-2'].errorInformation, 'closed account');

    const failedOnly = await detail(agency, `batchId=${batchId}&status=failed`);
    assert.deepEqual(failedOnly.body.map((item: { requestId: string }) => item.requestId), ['INS-DECLINED-2', 'INS-ELSEWHERE-3', 'INS-UNKNOWN-4', 'INS-AM04-6']);
    const completedOnly = await detail(agency, `batchId=${batchId}&status=COMPLETED`);
    assert.deepEqual(completedOnly.body.map((item: { requestId: string }) => item.requestId), ['INS-PAID-1', 'INS-MSISDN-5']);
    assert.deepEqual((await detail(agency, `batchId=${batchId}&status=IN_PROGRESS`)).body, []);
  });

  it('when the detail is paged, then pageNo counts pages from 0 and a status filter pages through the matching rows', async function () {
    const body = Array.from({ length: 5 }, (_, index) => instruction(`PAGE-${index + 1}`, [{ key: 'MSISDN', value: index % 2 === 0 ? msisdn('0000') : msisdn() }]));
    const accepted = await submit(agency, body, randomUUID());
    const { batchId } = accepted.body as { batchId: string };
    await finalPush(receiver, batchId);
    const ids = (response: JsonResponse) => response.body.map((item: { requestId: string }) => item.requestId);
    assert.deepEqual(ids(await detail(agency, `batchId=${batchId}&pageNo=0&pageSize=2`)), ['PAGE-1', 'PAGE-2']);
    assert.deepEqual(ids(await detail(agency, `batchId=${batchId}&pageNo=1&pageSize=2`)), ['PAGE-3', 'PAGE-4']);
    assert.deepEqual(ids(await detail(agency, `batchId=${batchId}&pageNo=2&pageSize=2`)), ['PAGE-5']);
    assert.deepEqual(ids(await detail(agency, `batchId=${batchId}&pageNo=3&pageSize=2`)), []);
    assert.deepEqual(ids(await detail(agency, `batchId=${batchId}&status=FAILED&pageNo=1&pageSize=2`)), ['PAGE-5']);
    assert.deepEqual(ids(await detail(agency, `batchId=${batchId}&direction=INCOMING`)), []);
    assertRefusal(await detail(agency, `batchId=${batchId}&pageNo=-1`), 400, '', /query pageNo must be 0 \(the first page\) or more/);
    assertRefusal(await detail(agency, `batchId=${batchId}&pageSize=5000`), 400, '', /query pageSize must be from 1 to 1000/);
    assertRefusal(await detail(agency, `batchId=${batchId}&status=LOST`), 400, '', /query status must be one of COMPLETED, FAILED, IN_PROGRESS/);
    assertRefusal(await detail(agency, `batchId=${batchId}`, null), 400, '', /^Bad request: header Platform-TenantId is required$/);
    assertRefusal(await detail(agency, ''), 400, '', /query batchId is required/);
  });

  it('when the same X-CorrelationID comes again, then the same content gets the same batchId and other content a 409, and no second batch exists', async function () {
    const correlationId = randomUUID();
    const body = [instruction('DUP-1', [{ key: 'MSISDN', value: msisdn() }])];
    const first = await submit(agency, body, correlationId);
    assert.equal(first.status, 202, JSON.stringify(first.body));
    const before = await batchCount();
    const again = await submit(agency, body, correlationId);
    assert.equal(again.status, 202);
    assert.equal(again.body.batchId, first.body.batchId);
    assert.equal(again.headers.get('idempotent-replayed'), 'true');
    const other = await submit(agency, [instruction('DUP-1', [{ key: 'MSISDN', value: msisdn() }])], correlationId);
    assertRefusal(other, 409, correlationId, /X-CorrelationID was already used for a batch with other content/);
    assert.equal(await batchCount(), before);
    await finalPush(receiver, first.body.batchId);
  });

  it('when a header is missing or a field is missing or invalid, then 400 names it and no batch is stored', async function () {
    const id = randomUUID();
    const valid = instruction('BAD-1', [{ key: 'MSISDN', value: msisdn() }]);
    const before = await batchCount();
    assertRefusal(await submit(agency, [valid], id, { 'X-CorrelationID': undefined }), 400, '', /^Bad request: header X-CorrelationID is required$/);
    assertRefusal(await submit(agency, [valid], id, { 'Platform-TenantId': undefined }), 400, id, /^Bad request: header Platform-TenantId is required$/);
    assertRefusal(await submit(agency, [valid], id, { 'X-Callback-URL': undefined }), 400, id, /^Bad request: header X-Callback-URL is required$/);
    assertRefusal(await submit(agency, [valid], id, { 'X-Callback-URL': 'ftp://sbb.example/cb' }), 400, id, /header X-Callback-URL must be an http\(s\) URL/);
    assertRefusal(await submit(agency, [valid], id, { 'Platform-TenantId': 'T'.repeat(21) }), 400, id, /header Platform-TenantId must be at most 20 characters/);
    assertRefusal(await submit(agency, [valid], id, {}, 'xml'), 400, id, /query type must be one of raw, csv/);
    assertRefusal(await agency.call('POST', '/batchtransactions', { body: [valid], headers: headers(id) }), 400, id, /query type is required/);
    assertRefusal(await submit(agency, [], id), 400, id, /body must list at least 1/);
    assertRefusal(await submit(agency, { requestId: 'x' }, id), 400, id, /body must be a list/);
    const { amount: _amount, ...noAmount } = valid;
    assertRefusal(await submit(agency, [valid, noAmount], id), 400, id, /body\[1\]\.amount is required/);
    assertRefusal(await submit(agency, [{ ...valid, creditParty: undefined }], id), 400, id, /body\[0\]\.creditParty is required/);
    assertRefusal(await submit(agency, [{ ...valid, currency: 'KESX' }], id), 400, id, /body\[0\]\.currency must be exactly 3 characters/);
    assertRefusal(await submit(agency, [{ ...valid, requestId: 'R'.repeat(17) }], id), 400, id, /body\[0\]\.requestId must be at most 16 characters/);
    assertRefusal(await submit(agency, [{ ...valid, amount: 'ten' }], id), 400, id, /body\[0\]\.amount must be a number/);
    assertRefusal(await submit(agency, [valid, { ...valid, amount: 1.234 }], id), 400, id, /body\[1\]: amount KES has 2 decimal places/);
    assertRefusal(await submit(agency, [{ ...valid, amount: -5 }], id), 400, id, /body\[0\]: amount must be a positive decimal/);
    assertRefusal(await submit(agency, [{ ...valid, currency: 'XYZ' }], id), 400, id, /body\[0\]: currency "XYZ" is not an ISO 4217 currency code/);
    assertRefusal(await submit(agency, [{ ...valid, creditParty: [{ key: 'MSISDN', value: '0712 34' }] }], id), 400, id, /body\[0\]: payee msisdn must be an E\.164 phone number/);
    assertRefusal(await submit(agency, [{ ...valid, creditParty: [{ key: 'EMAIL', value: 'a@b.c' }] }], id), 400, id, /body\[0\]\.creditParty names no payee Kassa can pay/);
    assertRefusal(await submit(agency, [valid], id, { 'X-Program-Id': 'NOSUCH' }), 400, id, /header X-Program-Id: the organisation has no program NOSUCH/);
    assertRefusal(await agency.call('POST', '/batchtransactions?type=raw', { rawBody: 'requestId,amount', headers: { ...headers(id), 'content-type': 'text/csv' } }), 400, id, /type=raw takes a JSON array/);
    assertRefusal(await agency.call('POST', '/batchtransactions?type=raw', { rawBody: '[{"requestId":', headers: { ...headers(id), 'content-type': 'application/json' } }), 400, '', /the body is not valid JSON/);
    assert.equal(await batchCount(), before);
  });

  it('when X-Program-Id names a program, then the batch is paid from it rather than from the default program', async function () {
    const accepted = await submit(agency, [instruction('ELDER-1', [{ key: 'MSISDN', value: msisdn() }], { amount: 3 })], randomUUID(), { 'X-Program-Id': 'ELDER' });
    assert.equal(accepted.status, 202, JSON.stringify(accepted.body));
    await finalPush(receiver, accepted.body.batchId);
    const batch = await kassa.runtime.context.db('batches as b').join('programs as p', 'p.id', 'b.program_id').where('b.id', accepted.body.batchId).first('p.code');
    assert.equal(batch.code, 'ELDER');
  });

  it('when a batch is rejected before payment for want of budget, then its summary counts every row as failed and the detail gives the reason', async function () {
    const body = [instruction('POOR-1', [{ key: 'MSISDN', value: msisdn() }]), instruction('POOR-2', [{ key: 'MSISDN', value: msisdn() }])];
    const accepted = await submit(agency, body, randomUUID(), { 'X-Program-Id': 'POOR' });
    assert.equal(accepted.status, 202, JSON.stringify(accepted.body));
    const { batchId } = accepted.body as { batchId: string };
    const pushed = await eventually(async () => {
      const push = receiver.about(batchId).map((p) => JSON.parse(p.text)).find((status) => status.failed > 0);
      return push;
    }, { what: `the rejection of batch ${batchId}` });
    assert.deepEqual([pushed.TotalTransactions, pushed.completed, pushed.failed, pushed.ongoing], [2, 0, 2, 0]);
    assert.deepEqual([pushed.failed_amount, pushed.ongoing_amount, pushed.totalAmount], [20, 0, 20]);
    assert.match(pushed.note, /not enough budget/);
    const items = (await detail(agency, `batchId=${batchId}&status=FAILED`)).body as { status: string; statusDetail: string; errorInformation: string }[];
    assert.deepEqual(items.map((item) => [item.status, item.statusDetail]), [['FAILED', 'insufficient_funds'], ['FAILED', 'insufficient_funds']]);
    assert.match(items[0]!.errorInformation, /not enough budget/);
    assert.deepEqual((await detail(agency, `batchId=${batchId}&status=IN_PROGRESS`)).body, []);
  });

  it('when another organisation asks for a batch, or the batch does not exist, then 404 answers', async function () {
    const accepted = await submit(agency, [instruction('TENANT-1', [{ key: 'MSISDN', value: msisdn() }])], randomUUID());
    const { batchId } = accepted.body as { batchId: string };
    assertRefusal(await stranger.get(`/api/v1/batch?batchId=${batchId}`), 404, '', /batch .* does not exist/);
    assertRefusal(await detail(stranger, `batchId=${batchId}`, 'other'), 404, '', /batch .* does not exist/);
    assertRefusal(await agency.get(`/api/v1/batch?batchId=${randomUUID()}`), 404, '', /does not exist/);
    assertRefusal(await agency.get('/api/v1/batch?batchId=not-a-batch'), 404, '', /does not exist/);
    const unknownCorrelation = randomUUID();
    assertRefusal(await agency.get(`/api/v1/batch?X-CorrelationID=${unknownCorrelation}`), 404, unknownCorrelation, /does not exist/);
    assert.equal((await agency.get(`/api/v1/batch?batchId=${batchId}`)).status, 200);
    await finalPush(receiver, batchId);
  });

  it('when a CSV file of a few hundred rows names registered functional IDs, then it is streamed in, paid, and the final callback adds up', async function () {
    const beneficiaries = Array.from({ length: 300 }, (_, index) => ({ id: newFunctionalId(), phone: index % 100 === 7 ? msisdn('0000') : msisdn() }));
    await register(beneficiaries);
    const header = 'id,request_id,payment_mode,payer_identifier_type,payer_identifier,payee_identifier_type,payee_identifier,amount,currency,note';
    const lines = beneficiaries.map((b, index) => `${index + 1},CSV-${index + 1},mojaloop,,,FUNCTIONAL_ID,${b.id},1.50,KES,grant`);
    const correlationId = randomUUID();
    const accepted = await submitCsv(`${header}\n${lines.join('\n')}\n`, correlationId);
    assert.equal(accepted.status, 202, JSON.stringify(accepted.body));
    const { body: final } = await finalPush(receiver, accepted.body.batchId, 60_000);
    assert.equal(final.TotalTransactions, 300);
    assert.equal(final.completed, 297);
    assert.equal(final.failed, 3);
    assert.equal(final.completed + final.failed, final.TotalTransactions);
    assert.equal(final.completed_amount, 445.5);
    assert.equal(final.totalAmount, 450);
    const failed = await detail(agency, `batchId=${accepted.body.batchId}&status=FAILED`);
    assert.deepEqual(failed.body.map((item: { requestId: string; statusDetail: string }) => [item.requestId, item.statusDetail]), [['CSV-8', 'AC04'], ['CSV-108', 'AC04'], ['CSV-208', 'AC04']]);

    const again = await submitCsv(`${header}\n${lines.join('\n')}\n`, correlationId);
    assert.equal(again.body.batchId, accepted.body.batchId, 'the same file under the same X-CorrelationID is the same batch');
    const malformed = randomUUID();
    assertRefusal(await submitCsv('name,amount\nx,1.00\n', malformed), 400, malformed, /file line 1: the header must name the columns/);
    assertRefusal(await submitCsv(`${header}\n${lines[0]}\n`, malformed, 'text/plain'), 400, malformed, /type=csv takes the file as the body, sent with Content-Type: text\/csv/);
  });
});
