import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { voucherNumberKey } from '../../src/config/index.ts';
import { hashVoucherNumber } from '../../src/domain/voucher.ts';
import { newRequestId } from '../support/govstack.ts';
import { apiClient, type JsonResponse } from '../support/http.ts';
import { eventually, orderReaching } from '../support/kassa.ts';
import { budgetOf, redemptionsOf, startVoucherKassa, VOUCHER_TABLES, type VoucherKassa } from '../support/vouchers.ts';
import { assertInvalidFields, assertNothingWritten, assertProblem, sleep } from './helpers.ts';

type Api = ReturnType<typeof apiClient>;

const SHOP_ACCOUNT = { type: 'msisdn', value: '+254711000222' };
const SCHOOL_ACCOUNT = { type: 'msisdn', value: '+254711000333' };

interface Issued {
  readonly serialNumber: string;
  readonly voucherNumber: string;
}

function instruction(overrides: Record<string, unknown> = {}) {
  return { instructionID: `INS-${randomUUID().slice(0, 8)}`, groupCode: 'GEN', currency: 'KES', amount: 10, payeeFunctionalID: 'NID000000001', narration: 'food voucher', ...overrides };
}

function assertAcknowledgement(response: JsonResponse, status: number, code: '00' | '01', requestId: string, description: RegExp): void {
  assert.equal(response.status, status, JSON.stringify(response.body));
  assert.match(response.contentType, /^application\/json/);
  assert.equal(response.body.ResponseCode, code);
  assert.equal(response.body.RequestID, requestId);
  assert.match(response.body.ResponseDescription, description);
}

describe('GovStack v3 vouchers (e2e: /vouchers, /v1/voucher-groups, /v1/merchants)', function () {
  let setup: VoucherKassa;
  let issuer: Api;
  let shop: Api;
  let school: Api;
  /** A GovStack building block at the merchant's point: redeems for whichever merchant it names. */
  let till: Api;
  let stranger: Api;

  before(async function () {
    setup = await startVoucherKassa({
      organisation: 'voucher-ministry',
      issuerName: 'registration-bb',
      programs: [{ code: 'FOOD', budget: '10000.00' }, { code: 'TINY', budget: '5.00' }],
      groups: [{ code: 'GEN', program: 'FOOD' }, { code: 'SCH', program: 'FOOD' }, { code: 'TNY', program: 'TINY' }, { code: 'FLASH', program: 'FOOD', validity: 'PT2S' }],
      merchants: [
        { code: 'SHOP1', name: 'Corner Shop', account: SHOP_ACCOUNT },
        { code: 'SCHOOL1', name: 'Hill School', account: SCHOOL_ACCOUNT, voucher_groups: ['SCH'] },
        { code: 'AGENT1', name: 'Cash Agent', kind: 'agent', account: { type: 'msisdn', value: '+254711000444' }, credential: false },
      ],
    });
    issuer = setup.issuer;
    shop = apiClient(setup.kassa.url, setup.merchantKeys.get('SHOP1'));
    school = apiClient(setup.kassa.url, setup.merchantKeys.get('SCHOOL1'));
    till = await setup.credential('merchant-till-bb', ['vouchers:redeem']);
    stranger = apiClient(setup.kassa.url, await setup.kassa.issueKey('other-ministry', ['benefits:write', 'vouchers:redeem', 'orders:read']));
  });

  after(async function () {
    await setup?.stop();
  });

  const db = () => setup.kassa.runtime.context.db;
  const food = () => setup.programIds.get('FOOD')!;

  const preActivate = (instructions: unknown[], requestId = newRequestId(), headers: Record<string, string> = {}, api = issuer) =>
    api.call('POST', '/vouchers', { body: { requestID: requestId, batchID: 'BATCH-1', voucherInstructions: instructions }, headers: { 'X-Callback-URL': setup.receiver.url, ...headers } });
  const command = (method: 'PUT' | 'POST', name: string, serials: (string | number)[], requestId: string | undefined = newRequestId(), api = issuer, headers: Record<string, string> = {}) =>
    api.call(method, `/vouchers?command=${name}`, { body: { ...(requestId ? { RequestID: requestId } : {}), VoucherInstructions: serials.map((serialNumber) => ({ serialNumber })) }, headers });
  const redeem = (api: Api, voucher: Issued, overrides: Record<string, unknown> = {}, headers: Record<string, string> = {}) =>
    api.call('POST', '/vouchers?command=redeem', { body: { requestID: newRequestId(), voucherSerialNumber: voucher.serialNumber, voucherSecretNumber: voucher.voucherNumber, ...overrides }, headers });
  const status = (serial: string, api = issuer) => api.get(`/vouchers/${serial}?fields=status`);

  async function issue(count: number, overrides: Record<string, unknown> = {}): Promise<Issued[]> {
    const answer = await preActivate(Array.from({ length: count }, () => instruction(overrides)));
    assertAcknowledgement(answer, 200, '00', answer.body.RequestID, /pre-activated/);
    return answer.body.voucherInstructions.map((voucher: Issued) => ({ serialNumber: voucher.serialNumber, voucherNumber: voucher.voucherNumber }));
  }

  async function issueActive(count: number, overrides: Record<string, unknown> = {}): Promise<Issued[]> {
    const vouchers = await issue(count, overrides);
    const requestId = newRequestId();
    assertAcknowledgement(await command('PUT', 'activate', vouchers.map((voucher) => voucher.serialNumber), requestId), 200, '00', requestId, new RegExp(`^${count} vouchers activated$`));
    return vouchers;
  }

  describe('registries', function () {
    it('when an admin sets up a voucher group and a merchant with its own credential, then both are listed, and the key is shown in the first answer only', async function () {
      const group = await setup.admin.post('/v1/voucher-groups', { code: 'MKT', name: 'Market', program: 'FOOD', validity: 'P1DT12H' }, 'group-mkt');
      assert.equal(group.status, 201, JSON.stringify(group.body));
      assert.deepEqual({ ...group.body, id: undefined, created_at: undefined }, { id: undefined, code: 'MKT', name: 'Market', program: 'FOOD', currency: 'KES', validity: 'P1DT12H', created_at: undefined });
      const body = { code: 'STALL9', name: 'Fruit Stall', account: { type: 'msisdn', value: '+254711000999' }, voucher_groups: ['MKT'], credential: true };
      const merchant = await setup.admin.post('/v1/merchants', body, 'merchant-stall9');
      assert.equal(merchant.status, 201, JSON.stringify(merchant.body));
      assert.match(merchant.body.api_key, /^kassa_/);
      assert.equal(merchant.body.has_credential, true);
      const again = await setup.admin.post('/v1/merchants', body, 'merchant-stall9');
      assert.equal(again.status, 201);
      assert.equal(again.headers.get('idempotent-replayed'), 'true');
      assert.equal(again.body.api_key, null, 'a key is never shown twice');
      const listed = await issuer.get('/v1/merchants');
      assert.deepEqual(listed.body.data.find((entry: { code: string }) => entry.code === 'STALL9').voucher_groups, ['MKT']);
      assert.ok((await issuer.get('/v1/voucher-groups')).body.data.some((entry: { code: string }) => entry.code === 'MKT'));
      const [client] = await db()('api_clients').where({ id: (await db()('merchants').where({ code: 'STALL9' }).first()).api_client_id });
      assert.deepEqual(client.scopes, ['vouchers:redeem'], "a merchant's credential can redeem and do nothing else");
    });

    it('when a group names an unknown program or a duration in months, or a merchant an unknown group, then 422 names the field; a taken code is 409', async function () {
      assertInvalidFields(await setup.admin.post('/v1/voucher-groups', { code: 'X1', name: 'x', program: 'NOPE' }, randomUUID()), ['body.program']);
      assertInvalidFields(await setup.admin.post('/v1/voucher-groups', { code: 'X2', name: 'x', program: 'FOOD', validity: 'P1M' }, randomUUID()), ['body.validity']);
      assertInvalidFields(await setup.admin.post('/v1/merchants', { code: 'X3', name: 'x', account: SHOP_ACCOUNT, voucher_groups: ['NOPE'] }, randomUUID()), ['body.voucher_groups']);
      assertInvalidFields(await setup.admin.post('/v1/merchants', { code: 'WAYTOOLONGCODE', name: 'x', account: { type: 'msisdn', value: '12' } }, randomUUID()), ['body.code', 'body.account.value']);
      assertProblem(await setup.admin.post('/v1/voucher-groups', { code: 'GEN', name: 'again', program: 'FOOD' }, randomUUID()), 409, 'voucher_group_exists');
      assertProblem(await setup.admin.post('/v1/merchants', { code: 'SHOP1', name: 'again', account: SHOP_ACCOUNT }, randomUUID()), 409, 'merchant_exists');
      assertProblem(await issuer.post('/v1/merchants', { code: 'X4', name: 'x', account: SHOP_ACCOUNT }, randomUUID()), 403, 'insufficient_scope');
    });
  });

  describe('pre-activation (POST /vouchers)', function () {
    it('when vouchers are pre-activated, then each has a 10-digit serial and a 16-digit number shown in this answer only, their total is blocked, only hashes are stored, and the callback confirms them without numbers', async function () {
      const before = await budgetOf(setup.admin, food());
      const requestId = newRequestId();
      const instructions = [instruction({ amount: 10 }), instruction({ amount: '12.50', groupCode: 'SCH' })];
      const answer = await preActivate(instructions, requestId);
      assertAcknowledgement(answer, 200, '00', requestId, /^2 vouchers pre-activated/);
      const vouchers = answer.body.voucherInstructions;
      assert.deepEqual(vouchers.map((voucher: { instructionID: string }) => voucher.instructionID), instructions.map((entry) => entry.instructionID));
      for (const voucher of vouchers) {
        assert.match(voucher.serialNumber, /^\d{10}$/);
        assert.match(voucher.voucherNumber, /^[1-8]\d{15}$/);
        assert.ok(Date.parse(voucher.expiryDate) > Date.now() + 29 * 86_400_000, 'valid for the group\'s 30 days');
      }
      assert.deepEqual(vouchers.map((voucher: { amount: number; groupCode: string }) => [voucher.amount, voucher.groupCode]), [[10, 'GEN'], [12.5, 'SCH']]);
      assert.equal(Number(vouchers[1].serialNumber), Number(vouchers[0].serialNumber) + 1, 'serial numbers follow the instructions');
      assert.equal(Number((await budgetOf(setup.admin, food())).blocked) - Number(before.blocked), 22.5);

      const everything = JSON.stringify(await Promise.all(['vouchers', 'voucher_events', 'audit_log', 'callback_deliveries', 'idempotency_keys'].map((table) => db()(table).select())));
      for (const voucher of vouchers) assert.ok(!everything.includes(voucher.voucherNumber), 'a voucher number is never stored');
      const key = voucherNumberKey(setup.kassa.runtime.context.config);
      const stored = (await db()('vouchers').where({ request_id: requestId }).orderBy('serial_number').select(db().raw("encode(number_hash, 'hex') AS hash"))) as { hash: string }[];
      assert.deepEqual(stored.map((row) => row.hash), vouchers.map((voucher: Issued) => hashVoucherNumber(voucher.voucherNumber, key)), 'each number is kept as its keyed hash alone');
      assert.equal(Number((await db()('vouchers').where({ request_id: requestId }).count({ count: '*' }))[0]!.count), 2);

      const [push] = await setup.receiver.waitFor(requestId);
      const confirmed = JSON.parse(push!.text);
      assert.equal(confirmed.batchID, 'BATCH-1');
      assert.deepEqual(confirmed.voucherInstructions.map((voucher: { serialNumber: string }) => voucher.serialNumber), vouchers.map((voucher: { serialNumber: string }) => voucher.serialNumber));
      assert.ok(!push!.text.includes(vouchers[0].voucherNumber) && !push!.text.includes(vouchers[1].voucherNumber), 'the callback carries no voucher number');

      const again = await preActivate(instructions, requestId);
      assertAcknowledgement(again, 200, '00', requestId, /numbers were in that answer only/);
      assert.equal(again.headers.get('idempotent-replayed'), 'true');
      assert.deepEqual(again.body.voucherInstructions.map((voucher: { serialNumber: string }) => voucher.serialNumber), vouchers.map((voucher: { serialNumber: string }) => voucher.serialNumber));
      assert.ok(again.body.voucherInstructions.every((voucher: Record<string, unknown>) => !('voucherNumber' in voucher)));
      assert.equal(Number((await budgetOf(setup.admin, food())).blocked) - Number(before.blocked), 22.5, 'a repeat blocks nothing more');
      assertAcknowledgement(await preActivate([instruction()], requestId), 409, '01', requestId, /already used with a different request/);
    });

    it('when an instruction has an unusable amount, currency or group, then 452, 453 or 454 names it, and nothing is created or blocked', async function () {
      const before = await budgetOf(setup.admin, food());
      const refused = async (bad: Record<string, unknown>, status: number, words: RegExp) => {
        const requestId = newRequestId();
        const answer = await assertNothingWritten(db(), () => preActivate([instruction(), instruction({ instructionID: 'THE-BAD-ONE', ...bad })], requestId), [...VOUCHER_TABLES, 'idempotency_keys']);
        assertAcknowledgement(answer, status, '01', requestId, words);
      };
      await refused({ amount: 0 }, 452, /^Invalid amount: THE-BAD-ONE: amount must be greater than zero/);
      await refused({ amount: '10.005' }, 452, /^Invalid amount: THE-BAD-ONE: amount KES has 2 decimal places/);
      await refused({ amount: -5 }, 452, /^Invalid amount/);
      await refused({ currency: 'USD' }, 453, /^Invalid currency: THE-BAD-ONE: vouchers of group GEN are in KES, not USD/);
      await refused({ currency: 'XYZ1' }, 453, /^Invalid currency/);
      await refused({ groupCode: 'NOPE' }, 454, /^Invalid voucher group: THE-BAD-ONE: there is no voucher group NOPE/);
      const program = newRequestId();
      assertAcknowledgement(await preActivate([instruction()], program, { 'X-Program-Id': 'TINY' }), 454, '01', program, /draws on program FOOD, not TINY/);
      assert.deepEqual(await budgetOf(setup.admin, food()), before);
    });

    it('when the budget left does not cover the vouchers, then 455 and not one voucher exists, and the budget is as it was', async function () {
      const tiny = setup.programIds.get('TINY')!;
      const before = await budgetOf(setup.admin, tiny);
      const requestId = newRequestId();
      const answer = await assertNothingWritten(db(), () => preActivate([instruction({ groupCode: 'TNY', amount: 3 }), instruction({ groupCode: 'TNY', amount: 3 })], requestId), [...VOUCHER_TABLES, 'idempotency_keys']);
      assertAcknowledgement(answer, 455, '01', requestId, /^Voucher group exhausted: the budget left of program TINY does not cover the 6.00 KES/);
      assert.deepEqual(await budgetOf(setup.admin, tiny), before);
      const fits = await preActivate([instruction({ groupCode: 'TNY', amount: 5 })]);
      assert.equal(fits.status, 200, 'what the budget covers is issued');
      assert.equal((await budgetOf(setup.admin, tiny)).available, '0.00');
    });

    it('when a header or field is missing, or an instructionID repeats, then 400 names it and nothing is created', async function () {
      const requestId = newRequestId();
      const noCallback = await issuer.call('POST', '/vouchers', { body: { requestID: requestId, voucherInstructions: [instruction()] } });
      assertAcknowledgement(noCallback, 400, '01', requestId, /^Bad request: header X-Callback-URL is required$/);
      assertAcknowledgement(await preActivate([], requestId), 400, '01', requestId, /voucherInstructions must list at least 1/);
      assertAcknowledgement(await preActivate([{ currency: 'KES', amount: 1 }], requestId), 400, '01', requestId, /voucherInstructions\[0\]\.groupCode is required/);
      assertAcknowledgement(await preActivate([instruction({ instructionID: 'SAME' }), instruction({ instructionID: 'SAME' })], requestId), 400, '01', requestId, /instructionID SAME appears more than once/);
      assertAcknowledgement(await issuer.call('POST', '/vouchers?command=pay', { body: {} }), 400, '01', '', /query command must be one of redeem, cancel/);
      assert.equal(Number((await db()('vouchers').where({ request_id: requestId }).count({ count: '*' }))[0]!.count), 0);
    });

    it('when a merchant credential pre-activates or an issuing credential redeems, then 403 as problem+json', async function () {
      assertProblem(await preActivate([instruction()], newRequestId(), {}, shop), 403, 'insufficient_scope');
      const [voucher] = await issueActive(1);
      assertProblem(await redeem(issuer, voucher!, { agentID: 'SHOP1' }), 403, 'insufficient_scope');
      assertProblem(await apiClient(setup.kassa.url).call('POST', '/vouchers', { body: {} }), 401, 'unauthorised');
    });
  });

  describe('activation, suspension and status', function () {
    it('when vouchers are activated, then the callback reports no failure, and activating them again changes nothing and fails nothing', async function () {
      const vouchers = await issue(3);
      const requestId = newRequestId();
      const answer = await command('PUT', 'activate', vouchers.map((voucher) => voucher.serialNumber), requestId, issuer, { 'X-Callback-URL': setup.receiver.url });
      assertAcknowledgement(answer, 200, '00', requestId, /^3 vouchers activated$/);
      const [push] = await setup.receiver.waitFor(requestId);
      assert.deepEqual({ ...JSON.parse(push!.text), requestID: undefined }, { requestID: undefined, registerRequestID: requestId, numberFailedCases: 0, failedCases: [] });
      for (const voucher of vouchers) assert.equal((await status(voucher.serialNumber)).body.status, 2);
      const againId = newRequestId();
      assertAcknowledgement(await command('PUT', 'activate', vouchers.map((voucher) => voucher.serialNumber), againId), 200, '00', againId, /^3 vouchers activated$/);
      const events = await db()('voucher_events').whereIn('serial_number', vouchers.map((voucher) => voucher.serialNumber)).where({ to_status: 'activated' });
      assert.equal(events.length, 3, 'one event per voucher: the second activation changed nothing');
      assert.ok(events.every((event: { from_status: string }) => event.from_status === 'pre_activated'));
    });

    it('when an activation names an unknown serial among good ones, then 200 with ResponseCode 01 names it and the others are activated; alone, it is 456', async function () {
      const vouchers = await issue(2);
      const requestId = newRequestId();
      const answer = await command('PUT', 'activate', [vouchers[0]!.serialNumber, '9999999999', 'not-a-serial', vouchers[1]!.serialNumber], requestId, issuer, { 'X-Callback-URL': setup.receiver.url });
      assertAcknowledgement(answer, 200, '01', requestId, /^2 of 4 vouchers not activated: 9999999999 Invalid voucher serial number; not-a-serial Invalid voucher serial number$/);
      const [push] = await setup.receiver.waitFor(requestId);
      assert.deepEqual(JSON.parse(push!.text).failedCases, [
        { serialNumber: '9999999999', failureReason: '456 Invalid voucher serial number' },
        { serialNumber: 'not-a-serial', failureReason: '456 Invalid voucher serial number' },
      ]);
      for (const voucher of vouchers) assert.equal((await status(voucher.serialNumber)).body.status, 2);
      const alone = newRequestId();
      assertAcknowledgement(await command('PUT', 'activate', ['9999999999'], alone), 456, '01', alone, /^1 of 1 vouchers not activated/);
      const repeated = await command('PUT', 'activate', ['9999999999'], alone);
      assertAcknowledgement(repeated, 456, '01', alone, /^1 of 1 vouchers not activated/);
      assert.equal(repeated.headers.get('idempotent-replayed'), 'true', 'the same RequestID and vouchers answer the first outcome');
      assertAcknowledgement(await command('PUT', 'activate', [vouchers[0]!.serialNumber], alone), 409, '01', alone, /already used with a different request/);
    });

    it('when a voucher is suspended, then redemption is refused with 463 until it is unsuspended, and then it redeems', async function () {
      const [voucher] = await issueActive(1);
      const suspension = newRequestId();
      assertAcknowledgement(await command('PUT', 'suspend', [voucher!.serialNumber], suspension), 200, '00', suspension, /^1 vouchers suspended$/);
      assert.equal((await status(voucher!.serialNumber)).body.status, 3);
      const refused = await redeem(shop, voucher!);
      assert.equal(refused.status, 463, JSON.stringify(refused.body));
      assert.equal(refused.body.status, 0);
      assert.equal(refused.body.message, 'Invalid voucher');
      assert.match(refused.body.detail, /is suspended/);
      assert.deepEqual(await redemptionsOf(setup.kassa, voucher!.serialNumber), { events: 0, payouts: 0 });
      const redemptionBlocked = newRequestId();
      assertAcknowledgement(await command('PUT', 'suspend', [(await issue(1))[0]!.serialNumber], redemptionBlocked), 463, '01', redemptionBlocked, /Invalid voucher/);
      const unsuspension = newRequestId();
      assertAcknowledgement(await command('PUT', 'unsuspend', [voucher!.serialNumber], unsuspension), 200, '00', unsuspension, /^1 vouchers unsuspended$/);
      assert.equal((await redeem(shop, voucher!)).status, 200);
    });

    it('when a voucher is looked up, then its status code follows its life; an unknown serial is 456, and fields=status is required', async function () {
      const [voucher] = await issue(1, { amount: '7.25' });
      const seen = async () => (await status(voucher!.serialNumber)).body;
      assert.deepEqual(await seen(), { status: 1, serialNumber: voucher!.serialNumber, value: 7.25 });
      await command('PUT', 'activate', [voucher!.serialNumber]);
      assert.equal((await seen()).status, 2);
      assert.equal((await status(voucher!.serialNumber, shop)).body.status, 2, 'a merchant may check a voucher before it redeems it');
      await redeem(shop, voucher!);
      assert.equal((await seen()).status, 4);
      const [cancelled] = await issue(1);
      await command('POST', 'cancel', [cancelled!.serialNumber]);
      assert.equal((await status(cancelled!.serialNumber)).body.status, 5);
      const unknown = await status('9999999998');
      assert.equal(unknown.status, 456);
      assert.deepEqual({ ...unknown.body, detail: undefined }, { status: 456, message: 'Invalid voucher serial number', detail: undefined, serialNumber: '9999999998', value: 0 });
      const unasked = await issuer.get(`/vouchers/${voucher!.serialNumber}`);
      assert.equal(unasked.status, 400);
      assert.match(unasked.body.detail, /query fields/);
    });
  });

  describe('redemption (POST /vouchers?command=redeem)', function () {
    it('when a merchant redeems an activated voucher, then one payout to its registered account is paid through the rail, the amount moves from blocked to disbursed, and a second redemption is 458', async function () {
      const [voucher] = await issueActive(1, { amount: '15.00' });
      const before = await budgetOf(setup.admin, food());
      const answer = await redeem(shop, voucher!);
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      assert.deepEqual({ ...answer.body, timestamp: undefined, transactionId: undefined }, { status: 1, message: 'Voucher redeemed', serialNumber: voucher!.serialNumber, value: 15, timestamp: undefined, transactionId: undefined });
      const after = await budgetOf(setup.admin, food());
      assert.equal(Number(before.blocked) - Number(after.blocked), 15);
      assert.equal(Number(after.disbursed) - Number(before.disbursed), 15);

      const payout = await orderReaching(issuer, answer.body.transactionId, 'completed');
      assert.equal(payout.kind, 'benefit');
      assert.equal(payout.amount, '15.00');
      assert.deepEqual(payout.payee, SHOP_ACCOUNT, "paid at the merchant's registered account");
      assert.equal(payout.payer.value, 'GB82WEST12345698765432', "from the program's funding account");
      assert.equal(payout.metadata.voucher_serial_number, voucher!.serialNumber);

      const second = await redeem(shop, voucher!);
      assert.equal(second.status, 458);
      assert.equal(second.body.status, 0);
      assert.equal(second.body.message, 'Voucher already used');
      assert.deepEqual(await redemptionsOf(setup.kassa, voucher!.serialNumber), { events: 1, payouts: 1 });
      const audit = await db()('audit_log').where({ action: 'voucher.redeem', target: voucher!.serialNumber });
      assert.equal(audit.length, 1);
      assert.equal(audit[0].detail.order_id, answer.body.transactionId);
    });

    it('when vouchers are pre-activated, redeemed, cancelled, and a payout fails, then the ledger posts each movement and its program accounts agree with the budget', async function () {
      const program = await setup.admin.post('/v1/programs', { code: 'LEDGER', name: 'Ledger vouchers', currency: 'KES', budget: '100.00', funding_account: { type: 'iban', value: 'GB82WEST12345698765432' } }, randomUUID());
      assert.equal(program.status, 201, JSON.stringify(program.body));
      assert.equal((await setup.admin.post('/v1/voucher-groups', { code: 'LDG', name: 'Ledger group', program: 'LEDGER' }, randomUUID())).status, 201);
      // The sandbox rail declines payments to an account ending 0000: that merchant's payout fails.
      const closed = await setup.admin.post('/v1/merchants', { code: 'CLOSED1', name: 'Closed Shop', account: { type: 'msisdn', value: '+254711000000' }, credential: true }, randomUUID());
      assert.equal(closed.status, 201, JSON.stringify(closed.body));
      const [redeemed, cancelled, , unpaid] = await issueActive(4, { groupCode: 'LDG', amount: '10.00' });
      const answer = await redeem(shop, redeemed!);
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      assert.equal((await command('POST', 'cancel', [cancelled!.serialNumber])).status, 200);
      const declined = await redeem(apiClient(setup.kassa.url, closed.body.api_key), unpaid!);
      assert.equal(declined.status, 200, JSON.stringify(declined.body));
      await orderReaching(issuer, answer.body.transactionId, 'completed');
      await orderReaching(issuer, declined.body.transactionId, 'failed');

      const programId = program.body.id as string;
      const balances = new Map(((await db()('ledger_postings').where('account', 'like', `program:${programId}:%`).groupBy('account').select('account').sum({ balance: 'amount_minor' })) as { account: string; balance: string }[])
        .map((row) => [row.account.split(':')[2], BigInt(row.balance)]));
      const row = await db()('programs').where({ id: programId }).first();
      assert.equal(row.reserved_minor, '2000', 'one voucher is still blocked, and the failed payout is owed to its merchant again');
      assert.equal(row.disbursed_minor, '1000', 'one was redeemed and paid out');
      assert.equal(balances.get('reserved'), BigInt(row.reserved_minor));
      assert.equal(balances.get('disbursed'), BigInt(row.disbursed_minor));
      assert.equal(balances.get('budget'), -(BigInt(row.reserved_minor) + BigInt(row.disbursed_minor)), 'the budget account is minus what is committed');
      const kinds = (await db()('ledger_journals').where({ program_id: programId }).pluck('kind')) as string[];
      // Payouts sent together share their dispatch journal, so kinds are compared, not counted.
      assert.deepEqual([...new Set(kinds)].sort(), ['benefit_completed', 'benefit_dispatched', 'benefit_failed', 'benefit_funds_blocked', 'benefit_funds_released']);
    });

    it('when twenty redemptions of one voucher arrive at once, from the merchant and from a till naming another merchant, then exactly one succeeds and there is one payout', async function () {
      const [voucher] = await issueActive(1);
      const attempts = await Promise.all(Array.from({ length: 20 }, (_, index) => (index % 2 === 0 ? redeem(shop, voucher!) : redeem(till, voucher!, { agentID: 'AGENT1' }))));
      const statuses = attempts.map((attempt) => attempt.status);
      assert.equal(statuses.filter((code) => code === 200).length, 1, JSON.stringify(statuses));
      assert.equal(statuses.filter((code) => code === 458).length, 19, JSON.stringify(statuses));
      assert.deepEqual(await redemptionsOf(setup.kassa, voucher!.serialNumber), { events: 1, payouts: 1 });
    });

    it('when a redemption is sent again with its requestID by the same merchant, then the same redemption answers and it is paid once', async function () {
      const [voucher] = await issueActive(1);
      const requestID = newRequestId();
      const first = await redeem(shop, voucher!, { requestID });
      const again = await redeem(shop, voucher!, { requestID });
      assert.equal(again.status, 200, JSON.stringify(again.body));
      assert.equal(again.headers.get('idempotent-replayed'), 'true');
      assert.equal(again.body.transactionId, first.body.transactionId);
      assert.equal((await redeem(till, voucher!, { requestID, agentID: 'AGENT1' })).status, 458, 'another merchant with the same requestID is another redemption');
      assert.deepEqual(await redemptionsOf(setup.kassa, voucher!.serialNumber), { events: 1, payouts: 1 });
    });

    it('when the secret does not match the serial number, or either is unknown or malformed, then 461 and nothing is redeemed', async function () {
      const [voucher, other] = await issueActive(2);
      for (const body of [
        { voucherSecretNumber: other!.voucherNumber },
        { voucherSecretNumber: '1234' },
        { voucherSerialNumber: '9999999997' },
        { voucherSerialNumber: 'abc' },
      ]) {
        const refused = await redeem(shop, voucher!, body);
        assert.equal(refused.status, 461, JSON.stringify(refused.body));
        assert.equal(refused.body.message, 'Invalid number');
      }
      assert.deepEqual(await redemptionsOf(setup.kassa, voucher!.serialNumber), { events: 0, payouts: 0 });
      assert.equal((await status(voucher!.serialNumber)).body.status, 2);
    });

    it('when the merchant is unknown, or a merchant credential names another merchant, then 463; when the merchant does not take the voucher group, then 454', async function () {
      const [voucher] = await issueActive(1);
      for (const [api, agentID] of [[till, 'NOBODY'], [till, undefined], [shop, 'AGENT1']] as const) {
        const refused = await redeem(api, voucher!, { agentID });
        assert.equal(refused.status, 463, JSON.stringify(refused.body));
        assert.equal(refused.body.message, 'Cannot pay merchant');
      }
      const groupRefused = await redeem(school, voucher!);
      assert.equal(groupRefused.status, 454, JSON.stringify(groupRefused.body));
      assert.match(groupRefused.body.detail, /SCHOOL1 does not take vouchers of group GEN/);
      assert.deepEqual(await redemptionsOf(setup.kassa, voucher!.serialNumber), { events: 0, payouts: 0 });
      const [schoolVoucher] = await issueActive(1, { groupCode: 'SCH' });
      const paid = await redeem(school, schoolVoucher!);
      assert.equal(paid.status, 200, JSON.stringify(paid.body));
      assert.deepEqual((await orderReaching(issuer, paid.body.transactionId, 'completed')).payee, SCHOOL_ACCOUNT);
      assert.equal((await redeem(till, voucher!, { agentID: 'AGENT1' })).status, 200, 'an agent registered for no group takes every group');
    });

    it('when a voucher is not activated yet, then redemption is 463', async function () {
      const [voucher] = await issue(1);
      const refused = await redeem(shop, voucher!);
      assert.equal(refused.status, 463, JSON.stringify(refused.body));
      assert.match(refused.body.detail, /is pre-activated/);
    });
  });

  describe('payouts not paid (POST /v1/vouchers/{serialNumber}/payouts)', function () {
    const exceptionOf = (orderId: string) => db()('reconciliation_exceptions').where({ dedupe_key: `voucher_payout_failed:${orderId}` }).first();

    it('when the rail declines a payout for insufficient funds or a closed account, then an exception says the merchant is owed, and the merchant asking again gets 462 or 463', async function () {
      const poor = await setup.admin.post('/v1/merchants', { code: 'POOR1', name: 'Poor Route Shop', account: { type: 'msisdn', value: '+254711000001' }, credential: true }, randomUUID());
      const shut = await setup.admin.post('/v1/merchants', { code: 'SHUT1', name: 'Shut Shop', account: { type: 'msisdn', value: '+254722000000' }, credential: true }, randomUUID());
      assert.equal(poor.status, 201, JSON.stringify(poor.body));
      assert.equal(shut.status, 201, JSON.stringify(shut.body));
      const [first, second] = await issueActive(2, { amount: '12.00' });
      const before = await budgetOf(setup.admin, food());
      // The sandbox rail declines a payment to an account ending 0001 as AM04, to one ending 0000 as AC04.
      const cases = [
        { api: apiClient(setup.kassa.url, poor.body.api_key), voucher: first!, merchant: 'POOR1', code: 462, message: 'Insufficient funds', failure: 'AM04' },
        { api: apiClient(setup.kassa.url, shut.body.api_key), voucher: second!, merchant: 'SHUT1', code: 463, message: 'Cannot pay merchant', failure: 'AC04' },
      ];
      for (const { api, voucher, merchant, code, message, failure } of cases) {
        const requestID = newRequestId();
        const answer = await redeem(api, voucher, { requestID });
        assert.equal(answer.status, 200, JSON.stringify(answer.body));
        const orderId = answer.body.transactionId as string;
        await orderReaching(issuer, orderId, 'failed');

        const exception = await eventually(() => exceptionOf(orderId), { what: `the exception of payout ${orderId}` });
        assert.equal(exception.type, 'voucher_payout_failed');
        assert.equal(exception.severity, 'high');
        assert.equal(exception.status, 'open');
        assert.equal(exception.run_id, null, 'raised by the pipeline, not by a reconciliation run');
        assert.equal(exception.amount_minor, '1200');
        assert.deepEqual(
          { serial: exception.detail.voucher_serial_number, status: exception.detail.payout_status, failure: exception.detail.failure_code },
          { serial: voucher.serialNumber, status: 'failed', failure },
        );
        const listed = await setup.admin.get('/v1/reconciliation/exceptions?type=voucher_payout_failed');
        assert.equal(listed.status, 200, JSON.stringify(listed.body));
        assert.ok((listed.body.data as { order_id: string }[]).some((row) => row.order_id === orderId), 'treasury lists it with the other exceptions');

        const again = await redeem(api, voucher, { requestID });
        assert.equal(again.status, code, JSON.stringify(again.body));
        assert.equal(again.body.status, 0);
        assert.equal(again.body.message, message);
        assert.match(again.body.detail, new RegExp(`payout ${orderId} was not paid: .*\\(${failure}\\)`));
        assert.equal((await redeem(api, voucher)).status, 458, `a new redemption by ${merchant} is still refused: the voucher is used`);
        const events = await db()('voucher_events').where({ serial_number: voucher.serialNumber, from_status: 'redeemed', to_status: 'redeemed' });
        assert.equal(events.length, 1);
        assert.equal(events[0].detail.payout_order_id, orderId);
      }
      const after = await budgetOf(setup.admin, food());
      assert.equal(Number(after.blocked) - Number(before.blocked), 0, 'both amounts are blocked again, owed to their merchants');
      assert.equal(Number(after.disbursed) - Number(before.disbursed), 0);
    });

    it('when a payout is cancelled while the rail is down, then the issuer pays the merchant again once, the exception is resolved by it, and the merchant asking again is answered the new payout', async function () {
      const [voucher] = await issueActive(1, { amount: '7.00' });
      const requestID = newRequestId();
      const before = await budgetOf(setup.admin, food());
      setup.kassa.simulator.setBehaviour({ mode: 'down' });
      let orderId: string;
      try {
        const answer = await redeem(shop, voucher!, { requestID });
        assert.equal(answer.status, 200, JSON.stringify(answer.body));
        orderId = answer.body.transactionId as string;
        const cancelled = await issuer.post(`/v1/orders/${orderId}/cancel`, undefined, randomUUID());
        assert.equal(cancelled.status, 200, JSON.stringify(cancelled.body));
      } finally {
        setup.kassa.simulator.setBehaviour({ mode: 'normal' });
      }
      await eventually(() => exceptionOf(orderId), { what: 'the exception of the cancelled payout' });
      const refused = await redeem(shop, voucher!, { requestID });
      assert.equal(refused.status, 463, JSON.stringify(refused.body));

      const path = `/v1/vouchers/${voucher!.serialNumber}/payouts`;
      assert.equal((await shop.post(path, undefined, randomUUID())).status, 403, 'a merchant cannot pay itself again');
      await assertProblem(await issuer.post('/v1/vouchers/9999999999/payouts', undefined, randomUUID()), 404, 'not_found');
      const key = randomUUID();
      const repaid = await issuer.post(path, undefined, key);
      assert.equal(repaid.status, 201, JSON.stringify(repaid.body));
      assert.equal(repaid.body.previous_order_id, orderId);
      assert.notEqual(repaid.body.order_id, orderId);
      const replay = await issuer.post(path, undefined, key);
      assert.equal(replay.headers.get('idempotent-replayed'), 'true');
      assert.equal(replay.body.order_id, repaid.body.order_id);

      const payout = await orderReaching(issuer, repaid.body.order_id, 'completed');
      assert.deepEqual(payout.payee, SHOP_ACCOUNT);
      assert.equal(payout.amount, '7.00');
      await assertProblem(await issuer.post(path, undefined, randomUUID()), 409, 'payout_not_unpaid');
      const exception = await exceptionOf(orderId);
      assert.equal(exception.status, 'resolved');
      assert.equal(exception.resolution, `paid again as order ${repaid.body.order_id}`);

      const answered = await redeem(shop, voucher!, { requestID });
      assert.equal(answered.status, 200, JSON.stringify(answered.body));
      assert.equal(answered.body.transactionId, repaid.body.order_id);
      const after = await budgetOf(setup.admin, food());
      assert.equal(Number(before.blocked) - Number(after.blocked), 7, 'the voucher is spent once');
      assert.equal(Number(after.disbursed) - Number(before.disbursed), 7);
      assert.deepEqual(await redemptionsOf(setup.kassa, voucher!.serialNumber), { events: 1, payouts: 2 });
      const audit = await db()('audit_log').where({ action: 'voucher.payout.repay', target: voucher!.serialNumber });
      assert.equal(audit.length, 1);
    });

    it('when the rail takes a payout and then cannot be reached, then the merchant asking again gets 599 until the rail says it was paid', async function () {
      const [voucher] = await issueActive(1, { amount: '3.00' });
      const requestID = newRequestId();
      // The rail executes the payout but holds its answer past Kassa's rail timeout, then goes down: the payout is unknown.
      setup.kassa.simulator.setBehaviour({ mode: 'timeout', delayMs: 5000 });
      let orderId: string;
      try {
        const answer = await redeem(shop, voucher!, { requestID });
        assert.equal(answer.status, 200, JSON.stringify(answer.body));
        orderId = answer.body.transactionId as string;
        const railKey = orderId.replaceAll('-', '');
        await eventually(async () => (setup.kassa.simulator.executions(railKey) === 1 ? true : undefined), { intervalMs: 10, what: 'the rail to execute the payout' });
        setup.kassa.simulator.setBehaviour({ mode: 'down' });
        await orderReaching(issuer, orderId, 'unknown');
        const unsure = await redeem(shop, voucher!, { requestID });
        assert.equal(unsure.status, 599, JSON.stringify(unsure.body));
        assert.equal(unsure.body.message, 'Network timeout');
      } finally {
        setup.kassa.simulator.setBehaviour({ mode: 'normal' });
      }
      await orderReaching(issuer, orderId, 'completed');
      const answered = await redeem(shop, voucher!, { requestID });
      assert.equal(answered.status, 200, JSON.stringify(answered.body));
      assert.equal(answered.body.transactionId, orderId);
      assert.equal(await exceptionOf(orderId), undefined, 'a payout paid in the end raises nothing');
    });

    it('when a voucher is not redeemed, or its payout was paid, then paying it again is 409 and writes nothing', async function () {
      const [active, spent] = await issueActive(2);
      await assertProblem(await issuer.post(`/v1/vouchers/${active!.serialNumber}/payouts`, undefined, randomUUID()), 409, 'voucher_not_redeemed');
      const answer = await redeem(shop, spent!);
      await orderReaching(issuer, answer.body.transactionId, 'completed');
      await assertNothingWritten(db(), async () => {
        await assertProblem(await issuer.post(`/v1/vouchers/${spent!.serialNumber}/payouts`, undefined, randomUUID()), 409, 'payout_not_unpaid');
      }, ['orders', 'voucher_events', 'audit_log']);
    });
  });

  describe('cancellation (POST /vouchers?command=cancel)', function () {
    it('when a voucher is cancelled, then its amount returns to the budget and it cannot be redeemed; cancelled again it is 464, redeemed it is 458, unknown 463', async function () {
      const [preActivated, active, redeemed] = await issue(3, { amount: '4.00' });
      await command('PUT', 'activate', [active!.serialNumber, redeemed!.serialNumber]);
      assert.equal((await redeem(shop, redeemed!)).status, 200);
      const before = await budgetOf(setup.admin, food());
      const requestId = newRequestId();
      const answer = await issuer.call('POST', '/vouchers?command=cancel', {
        body: { requestID: requestId, batchID: 'CANCEL-1', voucherInstructions: [{ serialNumber: preActivated!.serialNumber }, { serialNumber: active!.serialNumber }] },
        headers: { 'X-Callback-URL': setup.receiver.url },
      });
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      assert.deepEqual(answer.body, { responseCode: '00', responseDescription: '2 vouchers cancelled', requestID: requestId });
      assert.equal(Number(before.blocked) - Number((await budgetOf(setup.admin, food())).blocked), 8);
      assert.equal(JSON.parse((await setup.receiver.waitFor(requestId))[0]!.text).numberFailedCases, 0);
      assert.equal((await redeem(shop, active!)).status, 464);

      const cancelAgain = async (serial: string, expected: number, words: RegExp) => {
        const id = newRequestId();
        const refused = await command('POST', 'cancel', [serial], id);
        assert.equal(refused.status, expected, JSON.stringify(refused.body));
        assert.equal(refused.body.responseCode, '01');
        assert.equal(refused.body.requestID, id);
        assert.match(refused.body.responseDescription, words);
      };
      await cancelAgain(active!.serialNumber, 464, /Voucher is already cancelled/);
      await cancelAgain(redeemed!.serialNumber, 458, /Voucher number already used/);
      await cancelAgain('9999999996', 463, /Invalid voucher/);
      assert.deepEqual(await redemptionsOf(setup.kassa, redeemed!.serialNumber), { events: 1, payouts: 1 }, 'a refused cancellation leaves the redemption alone');
      assert.equal(Number(before.blocked) - Number((await budgetOf(setup.admin, food())).blocked), 8, 'refused cancellations release nothing');
    });
  });

  describe('expiry', function () {
    it('when a voucher outlives its validity, then redemption is 459, and the expiry run marks it expired and gives its amount back to the budget', async function () {
      const [voucher] = await issueActive(1, { groupCode: 'FLASH', amount: '3.00' });
      const blocked = Number((await budgetOf(setup.admin, food())).blocked);
      await sleep(2_100);
      const refused = await redeem(shop, voucher!);
      assert.equal(refused.status, 459, JSON.stringify(refused.body));
      assert.equal(refused.body.message, 'Voucher has expired');
      await eventually(async () => ((await db()('vouchers').where({ serial_number: voucher!.serialNumber }).first()).status === 'expired' ? true : undefined), { what: 'the expiry run' });
      assert.equal(blocked - Number((await budgetOf(setup.admin, food())).blocked), 3);
      assert.equal((await status(voucher!.serialNumber)).body.status, 6);
      const [event] = await db()('voucher_events').where({ serial_number: voucher!.serialNumber, to_status: 'expired' });
      assert.equal(event.from_status, 'activated');
      const id = newRequestId();
      assertAcknowledgement(await command('PUT', 'activate', [voucher!.serialNumber], id), 459, '01', id, /Voucher has expired/);
    });
  });

  describe('tenancy', function () {
    it("when another organisation, or another registering institution, names the agency's voucher, then it is unknown to it", async function () {
      const [voucher] = await issueActive(1);
      assert.equal((await status(voucher!.serialNumber, stranger)).status, 456);
      const id = newRequestId();
      assertAcknowledgement(await command('PUT', 'suspend', [voucher!.serialNumber], id, stranger), 456, '01', id, /Invalid voucher serial number/);
      assert.equal((await redeem(stranger, voucher!, { agentID: 'SHOP1' })).status, 461);
      assert.equal((await redeem(till, voucher!, { agentID: 'AGENT1' }, { 'X-Registering-Institution-Id': 'OTHER-AGENCY' })).status, 461);
      assert.equal((await issuer.get(`/vouchers/${voucher!.serialNumber}?fields=status`, { 'X-Registering-Institution-ID': 'OTHER-AGENCY' })).status, 456);
      assert.equal((await status(voucher!.serialNumber)).body.status, 2, 'the voucher is untouched');
    });
  });
});
