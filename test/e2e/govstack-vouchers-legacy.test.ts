import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { apiClient, type JsonResponse } from '../support/http.ts';
import { orderReaching } from '../support/kassa.ts';
import { budgetOf, redemptionsOf, startVoucherKassa, VOUCHER_TABLES, type VoucherKassa } from '../support/vouchers.ts';
import { assertNothingWritten, sleep } from './helpers.ts';

type Api = ReturnType<typeof apiClient>;

/** The issuing building block's credential is named so: Gov_Stack_BB must say it. */
const ISSUER = 'Registration BB';
const TILL = 'Merchant Till BB';
const SHOP = { name: 'Corner Shop', account: { type: 'msisdn', value: '+254711000555' } };

/** Asserts the legacy refusal: the voucher code as the status, and exactly the words GovStack's compliance tests expect. */
function assertRefused(response: JsonResponse, status: number, message: string): void {
  assert.equal(response.status, status, JSON.stringify(response.body));
  assert.deepEqual(response.body, { message });
}

describe('GovStack legacy vouchers (e2e: /vouchers/voucher_preactivation, …_activation, …_redemption, /vouchers/voucherstatuscheck/{serial})', function () {
  let setup: VoucherKassa;
  let issuer: Api;
  let till: Api;

  before(async function () {
    setup = await startVoucherKassa({
      organisation: 'legacy-voucher-ministry',
      issuerName: ISSUER,
      programs: [{ code: 'FOOD', budget: '1000.00' }, { code: 'TINY', budget: '1.00' }],
      groups: [{ code: 'GEN', program: 'FOOD' }, { code: 'SCH', program: 'FOOD' }, { code: 'TNY', program: 'TINY' }, { code: 'FLASH', program: 'FOOD', validity: 'PT1S' }],
      merchants: [
        { code: 'SHOP1', name: SHOP.name, account: SHOP.account, voucher_groups: ['GEN', 'FLASH'], credential: false },
      ],
    });
    issuer = setup.issuer;
    till = await setup.credential(TILL, ['vouchers:redeem']);
  });

  after(async function () {
    await setup?.stop();
  });

  const db = () => setup.kassa.runtime.context.db;
  const food = () => setup.programIds.get('FOOD')!;

  const preActivate = (body: Record<string, unknown>, headers: Record<string, string> = {}) =>
    issuer.call('POST', '/vouchers/voucher_preactivation', { body: { voucher_amount: '10.00', voucher_currency: 'KES', voucher_group: 'GEN', Gov_Stack_BB: ISSUER, ...body }, headers });
  const activate = (body: unknown) => issuer.call('PATCH', '/vouchers/voucher_activation', { body });
  const redeem = (voucherNumber: unknown, overrides: Record<string, unknown> = {}, path = '/vouchers/voucher_redemption') =>
    till.call('POST', path, {
      body: { voucher_number: voucherNumber, Gov_Stack_BB: TILL, merchant_name: SHOP.name, merchant_bank_details: SHOP.account.value, merchant_voucher_group: 'GEN', override: false, ...overrides },
    });
  const status = (serial: string) => issuer.get(`/vouchers/voucherstatuscheck/${serial}`);
  const cancel = (serial: string, body: unknown = { voucherserialnumber: serial, Gov_Stack_BB: ISSUER }) => issuer.call('PATCH', `/vouchers/voucherstatuscheck/${serial}`, { body });

  async function issue(overrides: Record<string, unknown> = {}): Promise<{ number: string; serial: string }> {
    const answer = await preActivate(overrides);
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    return { number: answer.body.voucher_number, serial: answer.body.voucher_serial_number };
  }

  async function issueActive(overrides: Record<string, unknown> = {}): Promise<{ number: string; serial: string }> {
    const voucher = await issue(overrides);
    assert.equal((await activate({ voucher_serial_number: Number(voucher.serial), Gov_Stack_BB: ISSUER })).status, 200);
    return voucher;
  }

  describe('pre-activation', function () {
    it('when a voucher is pre-activated, then the answer is its number, serial number and expiry, its amount is blocked, and a repeat of the X-CorrelationID does not show the number again', async function () {
      const before = await budgetOf(setup.admin, food());
      const correlationId = randomUUID();
      const answer = await preActivate({ voucher_amount: '12.50', voucher_comment: 'school shoes' }, { 'X-CorrelationID': correlationId });
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      assert.deepEqual(Object.keys(answer.body).sort(), ['expiry_date_time', 'voucher_number', 'voucher_serial_number']);
      assert.match(answer.body.voucher_number, /^[1-8]\d{15}$/);
      assert.match(answer.body.voucher_serial_number, /^\d{10}$/);
      assert.ok(Date.parse(answer.body.expiry_date_time) > Date.now());
      assert.equal(Number((await budgetOf(setup.admin, food())).blocked) - Number(before.blocked), 12.5);
      const again = await preActivate({ voucher_amount: '12.50', voucher_comment: 'school shoes' }, { 'X-CorrelationID': correlationId });
      assert.equal(again.status, 409, JSON.stringify(again.body));
      assert.equal(again.body.voucher_serial_number, answer.body.voucher_serial_number);
      assert.ok(!JSON.stringify(again.body).includes(answer.body.voucher_number));
      assert.equal(Number((await budgetOf(setup.admin, food())).blocked) - Number(before.blocked), 12.5, 'the repeat created nothing');
    });

    it('when the amount, currency or group is unusable, the budget exhausted, the body empty or Gov_Stack_BB wrong, then the code and words the compliance tests expect, and nothing is created', async function () {
      const refused = async (call: () => Promise<JsonResponse>, status: number, message: string) => assertRefused(await assertNothingWritten(db(), call, [...VOUCHER_TABLES, 'idempotency_keys']), status, message);
      await refused(() => issuer.call('POST', '/vouchers/voucher_preactivation', { body: undefined }), 400, 'Invalid request');
      await refused(() => issuer.call('POST', '/vouchers/voucher_preactivation', { rawBody: '{"voucher_amount": ', headers: { 'content-type': 'application/json' } }), 400, 'Invalid request');
      await refused(() => preActivate({ voucher_group: undefined }), 400, 'Invalid request');
      await refused(() => preActivate({ voucher_amount: '0' }), 452, 'Invalid amount');
      await refused(() => preActivate({ voucher_amount: '1.234' }), 452, 'Invalid amount');
      await refused(() => preActivate({ voucher_currency: 'EUR' }), 453, 'Invalid currency');
      await refused(() => preActivate({ voucher_group: 'NOPE' }), 454, 'Invalid voucher group');
      await refused(() => preActivate({ voucher_group: 'TNY', voucher_amount: '1.01' }), 455, 'Voucher group exhausted');
      await refused(() => preActivate({ Gov_Stack_BB: undefined }), 460, 'Invalid Gov Stack Building Block');
      await refused(() => preActivate({ Gov_Stack_BB: 'Some' }), 460, 'GovStack Building Block does not exist');
    });
  });

  describe('activation', function () {
    it('when a voucher is activated by its serial number, sent as an integer or a string, then it is activated; 0 is 456, no body 400, no Gov_Stack_BB 460', async function () {
      const voucher = await issue();
      const answer = await activate({ voucher_serial_number: Number(voucher.serial), Gov_Stack_BB: ISSUER });
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      assert.deepEqual(answer.body, { result_status: 'Successfully activated voucher' });
      assert.deepEqual((await status(voucher.serial)).body, { voucher_status: 'Activated', voucher_amount: '10.00' });
      assert.equal((await activate({ voucher_serial_number: voucher.serial, Gov_Stack_BB: ISSUER.toUpperCase() })).status, 200, 'a string serial, and the name in another case');
      assertRefused(await activate({ voucher_serial_number: 0, Gov_Stack_BB: ISSUER }), 456, 'Invalid voucher serial number');
      assertRefused(await activate({ voucher_serial_number: 9999999995, Gov_Stack_BB: ISSUER }), 456, 'Invalid voucher serial number');
      assertRefused(await activate(undefined), 400, 'Invalid request');
      assertRefused(await activate({ voucher_serial_number: Number(voucher.serial) }), 460, 'Invalid Gov Stack Building Block');
      assertRefused(await activate({ voucher_serial_number: Number(voucher.serial), Gov_Stack_BB: 'Some' }), 460, 'GovStack Building Block does not exist');
    });
  });

  describe('redemption', function () {
    it('when the merchant redeems a voucher by its number, then it is paid at its registered account, and a second redemption is 458', async function () {
      const voucher = await issueActive();
      const answer = await redeem(Number(voucher.number));
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      assert.equal(answer.body.result_status, 'Voucher is successfully redeemed');
      assert.equal(answer.body.voucher_serial_number, voucher.serial);
      assert.deepEqual((await orderReaching(issuer, answer.body.transaction_id, 'completed')).payee, SHOP.account);
      assertRefused(await redeem(voucher.number), 458, 'Voucher number already used');
      assertRefused(await status(voucher.serial), 458, 'Voucher number already used');
      assert.deepEqual(await redemptionsOf(setup.kassa, voucher.serial), { events: 1, payouts: 1 });
      const audit = await db()('audit_log').where({ action: 'voucher.redeem', target: voucher.serial }).first();
      assert.equal(audit.detail.merchant_voucher_group, 'GEN', 'what the request said of the group is kept');
    });

    it('when ten redemptions of one voucher arrive at once on the misspelt path too, then exactly one succeeds and there is one payout', async function () {
      const voucher = await issueActive();
      const attempts = await Promise.all(Array.from({ length: 10 }, (_, index) => redeem(voucher.number, {}, index % 2 === 0 ? '/vouchers/voucher_redemption' : '/vouchers/voucher_redeemption')));
      assert.deepEqual(attempts.map((attempt) => attempt.status).sort(), [200, 458, 458, 458, 458, 458, 458, 458, 458, 458]);
      assert.deepEqual(await redemptionsOf(setup.kassa, voucher.serial), { events: 1, payouts: 1 });
    });

    it('when the number is missing or wrong, the merchant unknown or its account another, or Gov_Stack_BB unknown, then 461, 463 or 460, and nothing is redeemed', async function () {
      const voucher = await issueActive();
      assertRefused(await redeem(null), 461, 'Invalid voucher number');
      assertRefused(await redeem(undefined), 461, 'Invalid voucher number');
      assertRefused(await redeem('1000000000000000'), 461, 'Invalid voucher number');
      assertRefused(await redeem(voucher.number, { merchant_name: 'Some Name' }), 463, 'Cannot credit merchant');
      assertRefused(await redeem(voucher.number, { merchant_bank_details: '+254700000000' }), 463, 'Cannot credit merchant');
      assertRefused(await redeem(voucher.number, { Gov_Stack_BB: 'Some' }), 460, 'GovStack Building Block does not exist');
      assertRefused(await till.call('POST', '/vouchers/voucher_redemption', { body: undefined }), 400, 'Invalid request');
      assertRefused(await redeem(voucher.number, { override: 'yes' }), 400, 'Invalid request');
      assert.deepEqual(await redemptionsOf(setup.kassa, voucher.serial), { events: 0, payouts: 0 });
      assert.equal((await redeem(voucher.number, { merchant_name: 'corner shop' })).status, 200, 'the name is matched case aside');
    });

    it("when the voucher's group is not the merchant's, then 454 unless the request overrides; suspended it is 463, cancelled 464", async function () {
      const school = await issueActive({ voucher_group: 'SCH' });
      assertRefused(await redeem(school.number), 454, 'Invalid voucher group');
      assert.equal((await redeem(school.number, { override: true })).status, 200);
      const suspended = await issueActive();
      const suspension = await issuer.call('PUT', '/vouchers?command=suspend', { body: { VoucherInstructions: [{ serialNumber: suspended.serial }] } });
      assert.equal(suspension.status, 200, JSON.stringify(suspension.body));
      assert.deepEqual((await status(suspended.serial)).body, { voucher_status: 'Suspended', voucher_amount: '10.00' });
      assertRefused(await redeem(suspended.number), 463, 'Invalid voucher');
      assert.equal((await cancel(suspended.serial)).status, 200, 'a cancellation overrides a suspension');
      assertRefused(await redeem(suspended.number), 464, 'Voucher is already cancelled');
    });

    it('when a voucher outlived its validity, then redemption and the status check answer 459', async function () {
      const voucher = await issueActive({ voucher_group: 'FLASH' });
      await sleep(1_100);
      assertRefused(await redeem(voucher.number, { merchant_voucher_group: 'FLASH' }), 459, 'Voucher has expired');
      assertRefused(await status(voucher.serial), 459, 'Voucher has expired');
      assert.deepEqual(await redemptionsOf(setup.kassa, voucher.serial), { events: 0, payouts: 0 });
    });
  });

  describe('status and cancellation', function () {
    it('when a voucher is checked, then its status is Pre-Activated, Activated or Blocked once cancelled; an unknown serial is 456', async function () {
      const voucher = await issue({ voucher_amount: '3' });
      assert.deepEqual((await status(voucher.serial)).body, { voucher_status: 'Pre-Activated', voucher_amount: '3.00' });
      await cancel(voucher.serial);
      assert.deepEqual((await status(voucher.serial)).body, { voucher_status: 'Blocked', voucher_amount: '3.00' });
      assertRefused(await status('9999999994'), 456, 'Invalid voucher number');
      assertRefused(await status('validNumber'), 456, 'Invalid voucher number');
    });

    it('when a voucher is cancelled, then its amount returns to the budget; cancelled again it is 464, redeemed 458, unknown 463, and a malformed body 400', async function () {
      const voucher = await issueActive({ voucher_amount: '6.00' });
      const before = await budgetOf(setup.admin, food());
      const answer = await cancel(voucher.serial);
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      assert.deepEqual(answer.body, { message: 'Voucher cancelled' });
      assert.equal(Number(before.blocked) - Number((await budgetOf(setup.admin, food())).blocked), 6);
      assertRefused(await cancel(voucher.serial), 464, 'Voucher is already cancelled');
      const redeemed = await issueActive();
      assert.equal((await redeem(redeemed.number)).status, 200);
      assertRefused(await cancel(redeemed.serial), 458, 'Voucher number already used');
      assertRefused(await cancel('3214'), 463, 'Invalid voucher');
      assertRefused(await cancel(voucher.serial, { voucherserialnumber: '' }), 400, 'Invalid request');
      assertRefused(await issuer.call('PATCH', `/vouchers/voucherstatuscheck/${voucher.serial}`, {}), 400, 'Invalid request');
      assertRefused(await cancel(redeemed.serial, { voucherserialnumber: redeemed.serial }), 460, 'Invalid Gov Stack Building Block');
    });
  });
});
