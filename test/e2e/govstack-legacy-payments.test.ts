import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { finalPush, msisdn, newFunctionalId, newRequestId, startGovStackKassa } from '../support/govstack.ts';
import type { apiClient, JsonResponse } from '../support/http.ts';
import { eventually, type TestKassa } from '../support/kassa.ts';
import type { PushReceiver } from '../support/push-receiver.ts';

type Api = ReturnType<typeof apiClient>;

/** SourceBBID: the registering institution, 12 characters. */
const SOURCE = 'SOCIALPROT01';

/** InstructionID is 16 characters. */
const newInstructionId = () => randomBytes(8).toString('hex');

function credit(payee: string, overrides: Record<string, unknown> = {}) {
  return { InstructionID: newInstructionId(), PayeeFunctionalID: payee, Amount: 10, Currency: 'KES', Narration: 'child grant', ...overrides };
}

function batchBody(instructions: Record<string, unknown>[], overrides: Record<string, unknown> = {}) {
  return { RequestID: newRequestId(), SourceBBID: SOURCE, BatchID: newRequestId(), CreditInstructions: instructions, ...overrides };
}

function assertReply(response: JsonResponse, status: number, code: '00' | '01', requestId: string, description: RegExp): void {
  assert.equal(response.status, status, JSON.stringify(response.body));
  assert.match(response.contentType, /^application\/json/);
  assert.deepEqual(Object.keys(response.body).sort(), ['RequestID', 'ResponseCode', 'ResponseDescription']);
  assert.equal(response.body.ResponseCode, code);
  assert.equal(response.body.RequestID, requestId);
  assert.match(response.body.ResponseDescription, description);
  assert.ok(response.body.ResponseDescription.length <= 200);
}

const batchIdOf = (response: JsonResponse) => /batch ([0-9a-f-]{36})/.exec(response.body.ResponseDescription)![1]!;

describe('GovStack legacy bulk payment and pre-payment validation (e2e: /bulk-payment, /prepayment-validation, /prepayment-validation-response)', function () {
  let kassa: TestKassa;
  let receiver: PushReceiver;
  let agency: Api;
  let stranger: Api;

  before(async function () {
    ({ kassa, receiver, agency, stranger } = await startGovStackKassa({
      callbackPath: '/source-bb/callback',
      requestIdField: 'RequestID',
      organisations: { agency: 'legacy-ministry', stranger: 'legacy-other-ministry' },
      programs: [{ code: 'CHILD', name: 'Child grant', budget: '100000.00', approval_threshold: '90000.00', default: true }],
    }));
  });

  after(async function () {
    await kassa?.stop();
    await receiver?.close();
  });

  /** Registers beneficiaries through the legacy account mapper path, each paid to its MSISDN. */
  async function register(beneficiaries: { id: string; phone: string }[]): Promise<void> {
    const requestId = newRequestId();
    const answer = await agency.call('POST', '/register-beneficiary', {
      body: { RequestID: requestId, SourceBBID: SOURCE, Beneficiaries: beneficiaries.map((b) => ({ PayeeFunctionalID: b.id, PaymentModality: '01', FinancialAddress: b.phone })) },
    });
    assertReply(answer, 200, '00', requestId, /registered/);
  }

  const post = (api: Api, path: string, body: unknown, callback: string | undefined = receiver.url) =>
    api.call('POST', path, { body, headers: callback === undefined ? {} : { 'X-Callback-URL': callback } });
  const count = async (table: string) => Number((await kassa.runtime.context.db(table).count({ count: '*' }))[0]!.count);

  describe('/bulk-payment', function () {
    it('when a bulk payment names registered functional IDs, then "00" names the batch, it is paid, and the callback and the detail report every instruction', async function () {
      const [paid, declined, unknown] = [newFunctionalId(), newFunctionalId(), newFunctionalId()];
      await register([{ id: paid, phone: msisdn() }, { id: declined, phone: msisdn('0000') }]);
      // The compliance tests send Amount as a string; the file says number. Both are taken.
      const instructions = [credit(paid, { Amount: '10', Narration: undefined }), credit(declined, { Amount: 12.5, Narration: null }), credit(unknown)];
      const body = batchBody(instructions);
      const answer = await post(agency, '/bulk-payment', body);
      assertReply(answer, 200, '00', body.RequestID, /^Bulk payment received as batch [0-9a-f-]{36} of 3 instructions/);
      const batchId = batchIdOf(answer);

      const { push, body: final } = await finalPush(receiver, batchId);
      assert.equal(push.target, '/source-bb/callback');
      assert.equal(final.requestId, body.RequestID);
      assert.equal(final.TotalTransactions, 3);
      assert.equal(final.completed, 1);
      assert.equal(final.failed, 2);
      assert.equal(final.ongoing, 0);
      assert.equal(final.completed + final.failed, final.TotalTransactions);
      assert.equal(final.completed_amount, 10);
      assert.equal(final.failed_amount, 12.5);
      assert.equal(final.totalAmount, 22.5);

      const detail = await agency.get(`/api/v1/batch/detail?batchId=${batchId}`, { 'Platform-TenantId': 'legacy' });
      assert.equal(detail.status, 200, JSON.stringify(detail.body));
      assert.deepEqual(
        detail.body.map((item: { requestId: string; payeePartyId: string; status: string; statusDetail?: string }) => [item.requestId, item.payeePartyId, item.status, item.statusDetail ?? null]),
        [
          [instructions[0]!.InstructionID, paid, 'COMPLETED', null],
          [instructions[1]!.InstructionID, declined, 'FAILED', 'AC04'],
          [instructions[2]!.InstructionID, unknown, 'FAILED', 'unknown_beneficiary'],
        ],
      );
      const stored = await kassa.runtime.context.db('batches').where({ id: batchId }).first();
      assert.deepEqual([stored.api, stored.correlation_id, stored.reference, stored.registering_institution], ['govstack_legacy', body.RequestID, body.BatchID, SOURCE]);
    });

    it('when the same RequestID comes again, then the same body gets the same batch and another body a 409, and no second batch exists', async function () {
      const body = batchBody([credit(newFunctionalId())]);
      const first = await post(agency, '/bulk-payment', body, undefined);
      assertReply(first, 200, '00', body.RequestID, /received as batch/);
      const batches = await count('batches');
      const again = await post(agency, '/bulk-payment', body, undefined);
      assertReply(again, 200, '00', body.RequestID, /received as batch/);
      assert.equal(batchIdOf(again), batchIdOf(first));
      assert.equal(again.headers.get('idempotent-replayed'), 'true');
      const other = await post(agency, '/bulk-payment', { ...body, CreditInstructions: [credit(newFunctionalId())] }, undefined);
      assertReply(other, 409, '01', body.RequestID, /RequestID was already used for a batch with other content/);
      assert.equal(await count('batches'), batches);
    });

    it('when a field is missing or has the wrong length, or there are no instructions, then 400 names it, echoes the RequestID and nothing is stored', async function () {
      const valid = credit(newFunctionalId());
      const body = batchBody([valid]);
      const { RequestID: requestId } = body;
      const batches = await count('batches');
      const refuse = async (sent: unknown, expected: RegExp, echo = requestId) => assertReply(await post(agency, '/bulk-payment', sent), 400, '01', echo, expected);
      const { SourceBBID: _source, ...noSource } = body;
      const { BatchID: _batch, ...noBatch } = body;
      await refuse(noSource, /^Bad request: SourceBBID is required$/);
      await refuse(noBatch, /^Bad request: BatchID is required$/);
      await refuse({ ...body, CreditInstructions: [] }, /CreditInstructions must list at least 1/);
      await refuse({ ...body, SourceBBID: 'invalid' }, /SourceBBID must be exactly 12 characters/);
      await refuse({ ...body, BatchID: 'invalid' }, /BatchID must be exactly 12 characters/);
      await refuse({ ...body, RequestID: 'short' }, /RequestID must be exactly 12 characters/, 'short');
      await refuse({ ...body, CreditInstructions: [valid, { ...valid, InstructionID: 'x'.repeat(15) }] }, /CreditInstructions\[1\]\.InstructionID must be exactly 16 characters/);
      await refuse({ ...body, CreditInstructions: [{ ...valid, PayeeFunctionalID: 'x'.repeat(19) }] }, /CreditInstructions\[0\]\.PayeeFunctionalID must be exactly 20 characters/);
      await refuse({ ...body, CreditInstructions: [{ ...valid, Amount: undefined }] }, /CreditInstructions\[0\]\.Amount is required/);
      await refuse({ ...body, CreditInstructions: [{ ...valid, Amount: '100.10.1' }] }, /CreditInstructions\[0\]\.Amount must be a number/);
      await refuse({ ...body, CreditInstructions: [{ ...valid, Amount: 0 }] }, /CreditInstructions\[0\]: amount must be greater than zero/);
      await refuse({ ...body, CreditInstructions: [{ ...valid, Currency: 'US' }] }, /CreditInstructions\[0\]\.Currency must be exactly 3 characters/);
      await refuse({ ...body, CreditInstructions: [{ ...valid, Narration: '' }] }, /CreditInstructions\[0\]\.Narration must not be empty/);
      assertReply(await agency.call('POST', '/bulk-payment', { body, headers: { 'X-Program-Id': 'NOSUCH' } }), 400, '01', requestId, /header X-Program-Id: the organisation has no program NOSUCH/);
      assertReply(await agency.call('POST', '/bulk-payment', { rawBody: '{"RequestID":', headers: { 'content-type': 'application/json' } }), 400, '01', '', /the body is not valid JSON/);
      assert.equal(await count('batches'), batches);
    });
  });

  describe('/prepayment-validation', function () {
    it('when instructions are validated, then "00" answers at once, nothing is paid, and the failed instructions are pushed and answered at /prepayment-validation-response', async function () {
      const [known, other] = [newFunctionalId(), newFunctionalId()];
      await register([{ id: known, phone: msisdn() }, { id: other, phone: msisdn() }]);
      const instructions = [credit(known), credit(newFunctionalId()), credit(other, { Currency: 'USD' }), credit(other, { Narration: '' })];
      const body = batchBody(instructions);
      const orders = await count('orders');
      const answer = await post(agency, '/prepayment-validation', body);
      assertReply(answer, 200, '00', body.RequestID, /^Pre-payment validation of 4 instructions received/);

      const [push] = await receiver.waitFor(body.RequestID, 1, 20_000);
      const pushed = JSON.parse(push!.text);
      const expected = {
        RequestID: body.RequestID,
        Source_BatchID: body.BatchID,
        ValidationStatus: 'COMPLETED',
        NumberFailedCases: 2,
        FailedAccounts: [
          { InstructionID: instructions[1]!.InstructionID, FailureReason: 'unknown_beneficiary: no beneficiary is registered under this functional ID' },
          { InstructionID: instructions[2]!.InstructionID, FailureReason: "currency_mismatch: USD is not the program's currency KES" },
        ],
      };
      assert.deepEqual(pushed, expected);
      const asked = await agency.post('/prepayment-validation-response', { RequestID: body.RequestID, Source_BatchID: body.BatchID });
      assert.equal(asked.status, 200, JSON.stringify(asked.body));
      assert.deepEqual(asked.body, expected);
      assert.equal(await count('orders'), orders, 'a validation pays nothing');
      const stored = await kassa.runtime.context.db('batches').where({ correlation_id: body.RequestID }).first();
      assert.deepEqual([stored.validate_only, stored.status], [true, 'completed']);
    });

    it('when a validation has no callback URL, then /prepayment-validation-response answers by RequestID alone, once validation is done', async function () {
      const body = batchBody([credit(newFunctionalId())]);
      assertReply(await post(agency, '/prepayment-validation', body, undefined), 200, '00', body.RequestID, /received/);
      const answer = await eventually(async () => {
        const asked = await agency.post('/prepayment-validation-response', { requestID: body.RequestID });
        return asked.body.ValidationStatus === 'COMPLETED' ? asked : undefined;
      }, { what: 'the validation to complete' });
      assert.equal(answer.body.NumberFailedCases, 1);
      assert.equal(answer.body.Source_BatchID, body.BatchID);
    });

    it('when the request breaks the schema, then the answer is still 200, with ResponseCode "01" and the reason, and nothing is stored', async function () {
      const valid = credit(newFunctionalId());
      const body = batchBody([valid]);
      const { RequestID: requestId } = body;
      const batches = await count('batches');
      const refuse = async (sent: unknown, expected: RegExp, echo = requestId) => assertReply(await post(agency, '/prepayment-validation', sent), 200, '01', echo, expected);
      const { SourceBBID: _source, ...noSource } = body;
      const { BatchID: _batch, ...noBatch } = body;
      const { InstructionID: _instruction, ...noInstruction } = valid;
      const { Narration: _narration, ...noNarration } = valid;
      await refuse(noSource, /SourceBBID is required/);
      await refuse(noBatch, /BatchID is required/);
      await refuse({ ...body, CreditInstructions: undefined }, /CreditInstructions is required/);
      await refuse({ ...body, CreditInstructions: [] }, /CreditInstructions must list at least 1/);
      await refuse({ ...body, CreditInstructions: [noInstruction] }, /CreditInstructions\[0\]\.InstructionID is required/);
      await refuse({ ...body, CreditInstructions: [noNarration] }, /CreditInstructions\[0\]\.Narration is required/);
      await refuse({ ...body, CreditInstructions: [{ ...valid, Amount: null }] }, /CreditInstructions\[0\]\.Amount must be a number/);
      await refuse({ ...body, CreditInstructions: [{ ...valid, Currency: 'US' }] }, /CreditInstructions\[0\]\.Currency must be exactly 3 characters/);
      await refuse({ ...body, SourceBBID: 'sourceBBID' }, /SourceBBID must be exactly 12 characters/);
      await refuse({ ...body, CreditInstructions: [{ ...valid, Currency: 'ZZZ' }] }, /CreditInstructions\[0\]: currency "ZZZ" is not an ISO 4217 currency code/);
      assertReply(await agency.call('POST', '/prepayment-validation', { rawBody: '{"RequestID":', headers: { 'content-type': 'application/json' } }), 200, '01', '', /the body is not valid JSON/);
      assert.equal(await count('batches'), batches);

      assertReply(await post(agency, '/prepayment-validation', body), 200, '00', requestId, /received/);
      await refuse({ ...body, CreditInstructions: [credit(newFunctionalId())] }, /RequestID was already used for a batch with other content/);
    });

    it('when /prepayment-validation-response is asked about an unknown request, another BatchID or another organisation\'s request, then 404 answers', async function () {
      const body = batchBody([credit(newFunctionalId())]);
      assertReply(await post(agency, '/prepayment-validation', body, undefined), 200, '00', body.RequestID, /received/);
      const unknown = newRequestId();
      assertReply(await agency.post('/prepayment-validation-response', { RequestID: unknown, Source_BatchID: body.BatchID }), 404, '01', unknown, /no pre-payment validation with RequestID/);
      assertReply(await agency.post('/prepayment-validation-response', { RequestID: body.RequestID, Source_BatchID: newRequestId() }), 404, '01', body.RequestID, /for BatchID/);
      assertReply(await stranger.post('/prepayment-validation-response', { RequestID: body.RequestID, Source_BatchID: body.BatchID }), 404, '01', body.RequestID, /no pre-payment validation/);
      assertReply(await agency.post('/prepayment-validation-response', { Source_BatchID: body.BatchID }), 400, '01', '', /RequestID is required/);
    });
  });
});
