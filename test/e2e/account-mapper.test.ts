import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { apiClient, type JsonResponse } from '../support/http.ts';
import { eventually, startTestKassa, type TestKassa } from '../support/kassa.ts';
import { startPushReceiver, type PushReceiver } from '../support/push-receiver.ts';
import { assertProblem, sleep } from './helpers.ts';

type Api = ReturnType<typeof apiClient>;

const INSTITUTION = 'SOCIALREG001';
const VALID_IBAN = 'GB82WEST12345698765432';
const OTHER_IBAN = 'DE89370400440532013000';
const BAD_CHECKSUM_IBAN = 'GB83WEST12345698765432';

/** GovStack request ids are 12 characters. */
const newRequestId = () => randomBytes(6).toString('hex');
/** The legacy API wants functional ids of exactly 20 characters; v3 takes up to 20. */
const newFunctionalId = () => randomBytes(10).toString('hex');
const msisdn = () => `+2547${String(Math.floor(Math.random() * 1e8)).padStart(8, '0')}`;

function assertGovStackRefusal(response: JsonResponse, status: number, requestId: string, names: RegExp): void {
  assert.equal(response.status, status, JSON.stringify(response.body));
  assert.match(response.contentType, /^application\/json/);
  assert.equal(response.body.ResponseCode, '01');
  assert.equal(response.body.RequestID, requestId);
  assert.match(response.body.ResponseDescription, names);
  assert.ok(response.body.ResponseDescription.length <= 200);
}

describe('account mapper (e2e, GovStack v3 and legacy APIs)', () => {
  let kassa: TestKassa;
  let receiver: PushReceiver;
  let writer: Api;
  let otherTenant: Api;
  const logLines: string[] = [];
  const logs = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logLines.push(chunk.toString('utf8'));
      done();
    },
  });

  before(async () => {
    receiver = await startPushReceiver({ path: '/registry/callback', keysOf: ({ text }) => [JSON.parse(text).registerRequestID as string] });
    kassa = await startTestKassa({ backend: 'postgres', env: { LOG_LEVEL: 'info' }, logTo: logs });
    writer = apiClient(kassa.url, await kassa.issueKey('mapper-ministry', ['benefits:write']));
    otherTenant = apiClient(kassa.url, await kassa.issueKey('mapper-other-ministry', ['benefits:write']));
  });
  after(async () => {
    await kassa?.stop();
    await receiver?.close();
  });

  const v3Headers = (institution = INSTITUTION) => ({ 'X-Callback-URL': receiver.url, 'X-Registering-Institution-ID': institution });
  const register = (api: Api, body: unknown, headers: Record<string, string> = v3Headers()) => api.call('POST', '/identityAccountMapper/beneficiary', { body, headers });
  const update = (api: Api, body: unknown, headers: Record<string, string> = { 'X-Callback-URL': receiver.url }) => api.call('PUT', '/identityAccountMapper/beneficiary', { body, headers });
  const bulkLookup = (api: Api, ids: string[], institution = INSTITUTION) =>
    api.call('PUT', '/beneficiary', { body: { requestId: newRequestId(), payeePartyIds: ids }, headers: { registeringInstitutionId: institution } });
  const lookup = (api: Api, id: string, institution = INSTITUTION) => api.get(`/beneficiary?payeeIdentity=${encodeURIComponent(id)}&requestId=${newRequestId()}`, { registeringInstitutionId: institution });
  const legacy = (path: string, body: unknown) => writer.call('POST', path, { body });
  const beneficiaryCount = async () => Number((await kassa.runtime.context.db('beneficiaries').count({ count: '*' }))[0]!.count);

  describe('GovStack v3 registration', () => {
    it('when beneficiaries are registered, then the answer is "00" at once, the callback lists the invalid ones and the valid ones can be looked up', async () => {
      const requestId = newRequestId();
      const [bank, wallet, badIban, badPhone] = [newFunctionalId(), newFunctionalId(), newFunctionalId(), newFunctionalId()];
      const phone = msisdn();
      const answer = await register(writer, {
        RequestID: requestId,
        Beneficiaries: [
          { payeeIdentity: bank, PaymentModality: '00', FinancialAddress: VALID_IBAN, bankingInstitutionCode: 'WESTGB2L' },
          { payeeIdentity: wallet, PaymentModality: '01', FinancialAddress: phone },
          { payeeIdentity: badIban, PaymentModality: '00', FinancialAddress: BAD_CHECKSUM_IBAN },
          { payeeIdentity: badPhone, PaymentModality: '03', FinancialAddress: '0712 34' },
        ],
      });
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      assert.equal(answer.body.responseCode, '00');
      assert.equal(answer.body.requestID, requestId);
      assert.match(answer.body.responseDescription, /2 of 4 beneficiaries registered/);

      const [push] = await receiver.waitFor(requestId);
      const callback = JSON.parse(push!.text);
      assert.match(callback.requestID, /^[0-9a-f]{12}$/);
      assert.notEqual(callback.requestID, requestId, 'the callback is a message of its own');
      assert.equal(callback.registerRequestID, requestId);
      assert.equal(callback.numberFailedCases, 2);
      assert.deepEqual(callback.failedCases.map((failure: { payeeIdentity: string }) => failure.payeeIdentity), [badIban, badPhone]);
      assert.equal(callback.failedCases[0].paymentModality, '00');
      assert.match(callback.failedCases[0].failureReason, /^invalid: financial address IBAN check digits do not match$/);
      assert.equal(callback.failedCases[1].paymentModality, '03');
      assert.match(callback.failedCases[1].failureReason, /^invalid: financial address must be an E\.164/);
      assert.equal(push!.headers['kassa-event'], 'beneficiaries.registered');

      const found = await bulkLookup(writer, [bank, wallet, badIban]);
      assert.equal(found.status, 200);
      assert.deepEqual(found.body.paymentModalityList, [
        { payeeIdentity: bank, paymentModality: '00', financialAddress: VALID_IBAN, bankingInstitutionCode: 'WESTGB2L' },
        { payeeIdentity: wallet, paymentModality: '01', financialAddress: phone },
      ]);
    });

    it('when a beneficiary the institution registered before is sent again, then the callback reports it as a duplicate and its address is kept', async () => {
      const id = newFunctionalId();
      const first = newRequestId();
      await register(writer, { RequestID: first, Beneficiaries: [{ payeeIdentity: id, PaymentModality: '00', FinancialAddress: VALID_IBAN }] });
      await receiver.waitFor(first);
      const second = newRequestId();
      const answer = await register(writer, { RequestID: second, Beneficiaries: [{ payeeIdentity: id, PaymentModality: '00', FinancialAddress: OTHER_IBAN }] });
      assert.equal(answer.body.responseCode, '00');
      const callback = JSON.parse((await receiver.waitFor(second))[0]!.text);
      assert.equal(callback.numberFailedCases, 1);
      assert.equal(callback.failedCases[0].payeeIdentity, id);
      assert.match(callback.failedCases[0].failureReason, /^duplicate: already registered by this institution$/);
      assert.equal((await lookup(writer, id)).body.paymentModalityList[0].financialAddress, VALID_IBAN);
    });

    it('when one request lists the same functional id twice, then the first is registered and the second reported as a duplicate', async () => {
      const requestId = newRequestId();
      const id = newFunctionalId();
      const phone = msisdn();
      await register(writer, { RequestID: requestId, Beneficiaries: [{ payeeIdentity: id, PaymentModality: '01', FinancialAddress: phone }, { payeeIdentity: id, PaymentModality: '01', FinancialAddress: msisdn() }] });
      const callback = JSON.parse((await receiver.waitFor(requestId))[0]!.text);
      assert.equal(callback.numberFailedCases, 1);
      assert.match(callback.failedCases[0].failureReason, /more than once/);
      assert.equal((await lookup(writer, id)).body.paymentModalityList[0].financialAddress, phone);
    });

    it('when the same RequestID is sent again with the same body, then the first answer is repeated, nothing is registered twice and one callback is sent', async () => {
      const requestId = newRequestId();
      const body = { RequestID: requestId, Beneficiaries: [{ payeeIdentity: newFunctionalId(), PaymentModality: '01', FinancialAddress: msisdn() }] };
      const first = await register(writer, body);
      await receiver.waitFor(requestId);
      const countAfterFirst = await beneficiaryCount();
      const again = await register(writer, body);
      assert.equal(again.status, 200);
      assert.deepEqual(again.body, first.body);
      assert.equal(again.headers.get('idempotent-replayed'), 'true');
      assert.equal(await beneficiaryCount(), countAfterFirst);
      await sleep(300);
      assert.equal(receiver.about(requestId).length, 1);
      assert.equal(JSON.parse(receiver.about(requestId)[0]!.text).numberFailedCases, 0, 'the one callback says all were registered');
    });

    it('when the same request is sent twice at the same moment, then both are answered alike, one as a replay, and one callback is sent', async () => {
      const requestId = newRequestId();
      const body = { RequestID: requestId, Beneficiaries: [{ payeeIdentity: newFunctionalId(), PaymentModality: '01', FinancialAddress: msisdn() }] };
      const answers = await Promise.all([register(writer, body), register(writer, body)]);
      assert.deepEqual(answers.map((answer) => answer.status), [200, 200]);
      assert.deepEqual(answers[0]!.body, answers[1]!.body);
      assert.deepEqual(answers.map((answer) => answer.headers.get('idempotent-replayed')).sort(), ['true', null].sort());
      await receiver.waitFor(requestId);
      await sleep(300);
      assert.equal(receiver.about(requestId).length, 1);
      assert.equal(JSON.parse(receiver.about(requestId)[0]!.text).numberFailedCases, 0);
    });

    it('when the same RequestID is sent with a different body, then 409 says the RequestID was used for another request', async () => {
      const requestId = newRequestId();
      await register(writer, { RequestID: requestId, Beneficiaries: [{ payeeIdentity: newFunctionalId(), PaymentModality: '01', FinancialAddress: msisdn() }] });
      const reused = await register(writer, { RequestID: requestId, Beneficiaries: [{ payeeIdentity: newFunctionalId(), PaymentModality: '01', FinancialAddress: msisdn() }] });
      assertGovStackRefusal(reused, 409, requestId, /RequestID was already used with a different request/);
    });

    it('when the headers are spelt as the other GovStack files spell them, in any case, then they are accepted', async () => {
      const spellings: Record<string, string>[] = [
        { 'x-callback_url': receiver.url, 'x-registering-institution-id': INSTITUTION },
        { 'X-CALLBACK-URL': receiver.url, registeringinstitutionid: INSTITUTION },
      ];
      for (const headers of spellings) {
        const requestId = newRequestId();
        const answer = await register(writer, { requestId, beneficiaries: [{ PayeeIdentity: newFunctionalId(), paymentModality: '01', financialAddress: msisdn() }] }, headers);
        assert.equal(answer.status, 200, JSON.stringify(answer.body));
        assert.equal(answer.body.requestID, requestId);
        assert.equal(JSON.parse((await receiver.waitFor(requestId))[0]!.text).numberFailedCases, 0);
      }
    });

    it('when X-Callback-URL or X-Registering-Institution-ID is missing, then 400 names the header and nothing is registered', async () => {
      const body = { RequestID: newRequestId(), Beneficiaries: [{ payeeIdentity: newFunctionalId(), PaymentModality: '01', FinancialAddress: msisdn() }] };
      const before = await beneficiaryCount();
      assertGovStackRefusal(await register(writer, body, { 'X-Registering-Institution-ID': INSTITUTION }), 400, body.RequestID, /^Bad request: header X-Callback-URL is required$/);
      assertGovStackRefusal(await register(writer, body, { 'X-Callback-URL': receiver.url }), 400, body.RequestID, /^Bad request: header X-Registering-Institution-ID is required$/);
      assertGovStackRefusal(await register(writer, body, { 'X-Callback-URL': 'ftp://registry.example/cb', 'X-Registering-Institution-ID': INSTITUTION }), 400, body.RequestID, /header X-Callback-URL must be an http\(s\) URL/);
      assertGovStackRefusal(await register(writer, body, { 'X-Callback-URL': receiver.url, 'X-Registering-Institution-ID': 'INSTITUTION-TOO-LONG' }), 400, body.RequestID, /header X-Registering-Institution-ID must be at most 12 characters/);
      assert.equal(await beneficiaryCount(), before);
    });

    it('when a required field is missing or invalid, then 400 names the field, echoes the RequestID and nothing is registered', async () => {
      const requestId = newRequestId();
      const valid = { payeeIdentity: newFunctionalId(), PaymentModality: '01', FinancialAddress: msisdn() };
      const before = await beneficiaryCount();
      assertGovStackRefusal(await register(writer, { Beneficiaries: [valid] }), 400, '', /RequestID is required/);
      assertGovStackRefusal(await register(writer, { RequestID: 'ABCDEFGHIJKLM', Beneficiaries: [valid] }), 400, 'ABCDEFGHIJKLM', /RequestID must be at most 12 characters/);
      assertGovStackRefusal(await register(writer, { RequestID: requestId }), 400, requestId, /Beneficiaries is required/);
      assertGovStackRefusal(await register(writer, { RequestID: requestId, Beneficiaries: [] }), 400, requestId, /Beneficiaries must list at least 1/);
      assertGovStackRefusal(await register(writer, { RequestID: requestId, Beneficiaries: [{ ...valid, PaymentModality: '07' }] }), 400, requestId, /Beneficiaries\[0\]\.PaymentModality must be one of 00, 01, 02, 03, 04/);
      assertGovStackRefusal(await register(writer, { RequestID: requestId, Beneficiaries: [valid, { PaymentModality: '01', FinancialAddress: msisdn() }] }), 400, requestId, /Beneficiaries\[1\]\.payeeIdentity is required/);
      assertGovStackRefusal(await register(writer, { RequestID: requestId, Beneficiaries: [{ ...valid, payeeIdentity: 'x'.repeat(21) }] }), 400, requestId, /Beneficiaries\[0\]\.payeeIdentity must be at most 20 characters/);
      assertGovStackRefusal(await register(writer, { RequestID: requestId, Beneficiaries: [{ ...valid, FinancialAddress: undefined }] }), 400, requestId, /Beneficiaries\[0\]\.FinancialAddress is required/);
      const notJson = await writer.call('POST', '/identityAccountMapper/beneficiary', { rawBody: '{"RequestID": ', headers: { ...v3Headers(), 'content-type': 'application/json' } });
      assertGovStackRefusal(notJson, 400, '', /not valid JSON/);
      assert.equal(await beneficiaryCount(), before);
    });
  });

  describe('GovStack v3 at the size of a real registry', () => {
    it('when ten thousand beneficiaries are registered in one request, then all are registered and one bulk lookup returns them all', async () => {
      const requestId = newRequestId();
      const beneficiaries = Array.from({ length: 10_000 }, (_, index) => ({ payeeIdentity: `B${requestId}-${index}`, PaymentModality: '01', FinancialAddress: `+2547${String(index).padStart(8, '0')}` }));
      assert.equal(new Set(beneficiaries.map((beneficiary) => beneficiary.payeeIdentity)).size, 10_000);
      const answer = await register(writer, { RequestID: requestId, Beneficiaries: beneficiaries });
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      assert.match(answer.body.responseDescription, /10000 of 10000 beneficiaries registered/);
      const found = await bulkLookup(writer, beneficiaries.map((beneficiary) => beneficiary.payeeIdentity));
      assert.equal(found.body.paymentModalityList.length, 10_000);
      assert.deepEqual(found.body.paymentModalityList[9_999], { payeeIdentity: beneficiaries[9_999]!.payeeIdentity, paymentModality: '01', financialAddress: '+254700009999' });
      assert.equal(JSON.parse((await receiver.waitFor(requestId))[0]!.text).numberFailedCases, 0);
    });
  });

  describe('GovStack v3 update and lookup', () => {
    it('when an address is changed, then the lookup returns the new one and the callback reports the unknown id', async () => {
      const id = newFunctionalId();
      const unknown = newFunctionalId();
      const registration = newRequestId();
      await register(writer, { RequestID: registration, Beneficiaries: [{ payeeIdentity: id, PaymentModality: '01', FinancialAddress: msisdn(), bankingInstitutionCode: 'MPESA' }] });
      await receiver.waitFor(registration);
      const newPhone = msisdn();
      const requestId = newRequestId();
      const answer = await update(writer, {
        requestID: requestId,
        sourceBBID: INSTITUTION,
        beneficiaries: [{ payeeIdentity: id, financialAddress: newPhone }, { payeeIdentity: unknown, paymentModality: '00', financialAddress: VALID_IBAN }],
      });
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      assert.deepEqual(answer.body, { responseCode: '00', responseDescription: answer.body.responseDescription, requestID: requestId });
      assert.match(answer.body.responseDescription, /1 of 2 beneficiaries updated/);

      const found = await lookup(writer, id);
      assert.equal(found.status, 200);
      assert.equal(found.body.requestId.length, 12);
      assert.deepEqual(found.body.paymentModalityList, [{ payeeIdentity: id, paymentModality: '01', financialAddress: newPhone, bankingInstitutionCode: 'MPESA' }]);

      const [push] = await receiver.waitFor(requestId);
      const callback = JSON.parse(push!.text);
      assert.equal(push!.headers['kassa-event'], 'beneficiaries.updated');
      assert.equal(callback.registerRequestID, requestId);
      assert.equal(callback.numberFailedCases, 1);
      assert.deepEqual(callback.failedCases, [{ payeeFunctionalID: unknown, paymentModality: '00', failureReason: 'unknown: not registered by this institution' }]);
    });

    it('when an update moves a beneficiary to a modality its address cannot serve, then it is reported invalid and the old account stays', async () => {
      const id = newFunctionalId();
      const phone = msisdn();
      const registration = newRequestId();
      await register(writer, { RequestID: registration, Beneficiaries: [{ payeeIdentity: id, PaymentModality: '01', FinancialAddress: phone }] });
      await receiver.waitFor(registration);
      const requestId = newRequestId();
      await update(writer, { requestID: requestId, sourceBBID: INSTITUTION, beneficiaries: [{ payeeIdentity: id, paymentModality: '00' }] });
      const callback = JSON.parse((await receiver.waitFor(requestId))[0]!.text);
      assert.match(callback.failedCases[0].failureReason, /^invalid: financial address/);
      assert.equal((await lookup(writer, id)).body.paymentModalityList[0].financialAddress, phone);
    });

    it('when the update’s header names another institution than its sourceBBID, or its callback URL is missing, then 400 says so', async () => {
      const requestId = newRequestId();
      const body = { requestID: requestId, sourceBBID: INSTITUTION, beneficiaries: [{ payeeIdentity: newFunctionalId(), financialAddress: msisdn() }] };
      assertGovStackRefusal(await update(writer, body, { 'X-Callback-URL': receiver.url, 'X-Registering-Institution-Id': 'SOMEONEELSE' }), 400, requestId, /X-Registering-Institution-ID does not match sourceBBID/);
      assertGovStackRefusal(await update(writer, body, {}), 400, requestId, /header X-Callback-URL is required/);
      assertGovStackRefusal(await update(writer, { requestID: requestId, beneficiaries: body.beneficiaries }), 400, requestId, /sourceBBID is required/);
    });

    it('when a lookup lacks its registering institution or payeeIdentity, then 400 names what is missing', async () => {
      const requestId = newRequestId();
      assertGovStackRefusal(await writer.get(`/beneficiary?payeeIdentity=abc&requestId=${requestId}`), 400, requestId, /header registeringInstitutionId is required/);
      assertGovStackRefusal(await writer.get(`/beneficiary?requestId=${requestId}`, { registeringInstitutionId: INSTITUTION }), 400, requestId, /query payeeIdentity is required/);
      assertGovStackRefusal(await writer.call('PUT', '/beneficiary', { body: { requestId, payeePartyIds: [] }, headers: { registeringInstitutionId: INSTITUTION } }), 400, requestId, /payeePartyIds must list at least 1/);
    });

    it('when another organisation looks up, updates or registers the same institution’s functional id, then it sees and changes only its own', async () => {
      const id = newFunctionalId();
      const registration = newRequestId();
      await register(writer, { RequestID: registration, Beneficiaries: [{ payeeIdentity: id, PaymentModality: '00', FinancialAddress: VALID_IBAN }] });
      await receiver.waitFor(registration);

      assert.deepEqual((await lookup(otherTenant, id)).body.paymentModalityList, []);
      assert.deepEqual((await bulkLookup(otherTenant, [id])).body.paymentModalityList, []);

      const updateId = newRequestId();
      await update(otherTenant, { requestID: updateId, sourceBBID: INSTITUTION, beneficiaries: [{ payeeIdentity: id, financialAddress: OTHER_IBAN }] });
      assert.match(JSON.parse((await receiver.waitFor(updateId))[0]!.text).failedCases[0].failureReason, /^unknown/);

      const otherRegistration = newRequestId();
      await register(otherTenant, { RequestID: otherRegistration, Beneficiaries: [{ payeeIdentity: id, PaymentModality: '00', FinancialAddress: OTHER_IBAN }] });
      assert.equal(JSON.parse((await receiver.waitFor(otherRegistration))[0]!.text).numberFailedCases, 0, 'its own registry has no such beneficiary yet');
      assert.equal((await lookup(writer, id)).body.paymentModalityList[0].financialAddress, VALID_IBAN);
      assert.equal((await lookup(otherTenant, id)).body.paymentModalityList[0].financialAddress, OTHER_IBAN);
    });

    it('when a beneficiary is looked up under another registering institution, then it is not found', async () => {
      const id = newFunctionalId();
      const registration = newRequestId();
      await register(writer, { RequestID: registration, Beneficiaries: [{ payeeIdentity: id, PaymentModality: '01', FinancialAddress: msisdn() }] });
      await receiver.waitFor(registration);
      assert.deepEqual((await lookup(writer, id, 'OTHERREG')).body.paymentModalityList, []);
    });
  });

  describe('credentials, audit and logs', () => {
    it('when the bearer key is missing or lacks benefits:write, then 401 or 403 as problem+json', async () => {
      const body = { RequestID: newRequestId(), Beneficiaries: [{ payeeIdentity: newFunctionalId(), PaymentModality: '01', FinancialAddress: msisdn() }] };
      assertProblem(await register(apiClient(kassa.url), body), 401, 'unauthorised');
      const reader = apiClient(kassa.url, await kassa.issueKey('mapper-ministry', ['orders:read']));
      assertProblem(await register(reader, body), 403, 'insufficient_scope');
      assertProblem(await apiClient(kassa.url).call('POST', '/register-beneficiary', { body: {} }), 401, 'unauthorised');
    });

    it('when beneficiaries are registered, updated and looked up, then each action is in the audit log with masked addresses only', async () => {
      const id = newFunctionalId();
      const phone = msisdn();
      const newPhone = msisdn();
      const registration = newRequestId();
      await register(writer, { RequestID: registration, Beneficiaries: [{ payeeIdentity: id, PaymentModality: '01', FinancialAddress: phone }] });
      const updateId = newRequestId();
      await update(writer, { requestID: updateId, sourceBBID: INSTITUTION, beneficiaries: [{ payeeIdentity: id, financialAddress: newPhone }] });
      await lookup(writer, id);
      const entries = await kassa.runtime.context.db('audit_log').whereIn('action', ['beneficiaries.register', 'beneficiaries.update', 'beneficiaries.look_up']).orderBy('id');
      const byRegistrarRequest = (requestId: string) => entries.find((entry: { detail: { registrarRequestId: string } }) => entry.detail.registrarRequestId === requestId);
      assert.equal(byRegistrarRequest(registration).action, 'beneficiaries.register');
      assert.equal(byRegistrarRequest(registration).detail.registered, 1);
      assert.equal(byRegistrarRequest(registration).target, INSTITUTION);
      assert.equal(byRegistrarRequest(registration).actor, 'test-mapper-ministry');
      const change = byRegistrarRequest(updateId);
      assert.deepEqual(change.detail.changes, [{
        functionalId: id,
        from: { modality: '01', maskedAddress: `••••••${phone.slice(-4)}`, institutionCode: null },
        to: { modality: '01', maskedAddress: `••••••${newPhone.slice(-4)}`, institutionCode: null },
      }]);
      assert.ok(entries.some((entry: { action: string; detail: { found: number } }) => entry.action === 'beneficiaries.look_up' && entry.detail.found === 1));
      const text = JSON.stringify(entries);
      assert.ok(!text.includes(phone) && !text.includes(newPhone), 'no address reaches the audit log unmasked');
    });

    it('when beneficiaries are refused, then the log shows their addresses masked and no address ever in full', async () => {
      const requestId = newRequestId();
      const registered = msisdn();
      const refusedAddress = 'GB00WEST12345698761234';
      await register(writer, {
        RequestID: requestId,
        Beneficiaries: [
          { payeeIdentity: newFunctionalId(), PaymentModality: '01', FinancialAddress: registered },
          { payeeIdentity: newFunctionalId(), PaymentModality: '00', FinancialAddress: refusedAddress },
        ],
      });
      const refusal = await eventually(async () => logLines.map((line) => JSON.parse(line)).find((line) => line.registrarRequestId === requestId && line.refusals), { what: 'the refusal log line' });
      assert.equal(refusal.refusals.length, 1);
      assert.equal(refusal.refusals[0].maskedAddress, '••••••1234');
      assert.equal(refusal.refusals[0].result, 'invalid');
      const everything = logLines.join('');
      assert.ok(!everything.includes(refusedAddress), 'the refused address is never logged in full');
      assert.ok(!everything.includes(registered), 'nor is a registered one');
    });
  });

  describe('GovStack legacy API (compliance-test paths)', () => {
    const legacyBody = (overrides: Record<string, unknown> = {}, beneficiaries: unknown[] = [{ PayeeFunctionalID: newFunctionalId(), PaymentModality: '01', FinancialAddress: msisdn() }]) =>
      ({ RequestID: newRequestId(), SourceBBID: INSTITUTION, Beneficiaries: beneficiaries, ...overrides });

    it('when beneficiaries are registered, then "00" comes back with the RequestID and they are looked up under SourceBBID', async () => {
      const id = newFunctionalId();
      const body = legacyBody({}, [{ PayeeFunctionalID: id, PaymentModality: '00', FinancialAddress: VALID_IBAN }]);
      const answer = await legacy('/register-beneficiary', body);
      assert.equal(answer.status, 200);
      assert.match(answer.contentType, /^application\/json/);
      assert.deepEqual(Object.keys(answer.body).sort(), ['RequestID', 'ResponseCode', 'ResponseDescription']);
      assert.equal(answer.body.ResponseCode, '00');
      assert.equal(answer.body.RequestID, body.RequestID);
      assert.deepEqual((await lookup(writer, id)).body.paymentModalityList, [{ payeeIdentity: id, paymentModality: '00', financialAddress: VALID_IBAN }]);
    });

    it('when accountmapper.yaml’s /register-beneficiaries is called, then it registers like /register-beneficiary', async () => {
      const id = newFunctionalId();
      const answer = await legacy('/register-beneficiaries', legacyBody({}, [{ PayeeFunctionalID: id, PaymentModality: '02', FinancialAddress: 'VOUCHER-WALLET-77' }]));
      assert.equal(answer.body.ResponseCode, '00');
      assert.equal((await lookup(writer, id)).body.paymentModalityList[0].paymentModality, '02');
    });

    it('when a beneficiary has no modality, a bad address or was registered before, then "01" names it with its reason and the others are registered', async () => {
      const [fine, noModality, badPhone, duplicate] = [newFunctionalId(), newFunctionalId(), newFunctionalId(), newFunctionalId()];
      await legacy('/register-beneficiary', legacyBody({}, [{ PayeeFunctionalID: duplicate, PaymentModality: '01', FinancialAddress: msisdn() }]));
      const answer = await legacy('/register-beneficiary', legacyBody({}, [
        { PayeeFunctionalID: fine, PaymentModality: '01', FinancialAddress: msisdn() },
        { PayeeFunctionalID: noModality },
        { PayeeFunctionalID: badPhone, PaymentModality: '01', FinancialAddress: 'LI4808800751423444466' },
        { PayeeFunctionalID: duplicate, PaymentModality: '01', FinancialAddress: msisdn() },
      ]));
      assert.equal(answer.status, 200);
      assert.equal(answer.body.ResponseCode, '01');
      const description: string = answer.body.ResponseDescription;
      assert.ok(description.length <= 200);
      assert.match(description, /^3 of 4 beneficiaries not registered: /);
      assert.ok(description.includes(`${noModality} invalid: a payment modality is required`), description);
      assert.ok(description.includes(`${badPhone} invalid: financial address`), description);
      assert.equal((await bulkLookup(writer, [fine, noModality, badPhone])).body.paymentModalityList.length, 1);

      const again = await legacy('/register-beneficiary', legacyBody({}, [{ PayeeFunctionalID: duplicate, PaymentModality: '01', FinancialAddress: msisdn() }]));
      assert.equal(again.body.ResponseCode, '01');
      assert.equal(again.body.ResponseDescription, `1 of 1 beneficiaries not registered: ${duplicate} duplicate: already registered by this institution`);
    });

    it('when the request breaks the legacy schema, then 400 with ResponseCode "01" names the field and echoes the RequestID', async () => {
      const requestId = newRequestId();
      const before = await beneficiaryCount();
      assertGovStackRefusal(await legacy('/register-beneficiary', legacyBody({ RequestID: requestId, SourceBBID: undefined })), 400, requestId, /SourceBBID is required/);
      assertGovStackRefusal(await legacy('/register-beneficiary', legacyBody({ RequestID: requestId, SourceBBID: 'invalid' })), 400, requestId, /SourceBBID must be exactly 12 characters/);
      assertGovStackRefusal(await legacy('/register-beneficiary', legacyBody({ RequestID: requestId }, [{ PayeeFunctionalID: 'invalid' }])), 400, requestId, /Beneficiaries\[0\]\.PayeeFunctionalID must be exactly 20 characters/);
      assertGovStackRefusal(await legacy('/register-beneficiary', legacyBody({ RequestID: requestId }, [])), 400, requestId, /Beneficiaries must list at least 1/);
      assertGovStackRefusal(await legacy('/register-beneficiary', legacyBody({ RequestID: 'short' })), 400, 'short', /RequestID must be exactly 12 characters/);
      assertGovStackRefusal(await legacy('/update-beneficiary-details', legacyBody({ RequestID: requestId }, [{ PaymentModality: '01' }])), 400, requestId, /Beneficiaries\[0\]\.PayeeFunctionalID is required/);
      assert.equal(await beneficiaryCount(), before);
    });

    it('when details are updated, then "00" and the lookup shows the new address; an unknown id is "01" with its reason', async () => {
      const id = newFunctionalId();
      await legacy('/register-beneficiary', legacyBody({}, [{ PayeeFunctionalID: id, PaymentModality: '01', FinancialAddress: msisdn() }]));
      const updated = await legacy('/update-beneficiary-details', legacyBody({}, [{ PayeeFunctionalID: id, PaymentModality: '00', FinancialAddress: OTHER_IBAN }]));
      assert.equal(updated.body.ResponseCode, '00', updated.body.ResponseDescription);
      assert.deepEqual((await lookup(writer, id)).body.paymentModalityList, [{ payeeIdentity: id, paymentModality: '00', financialAddress: OTHER_IBAN }]);

      const unknown = newFunctionalId();
      const refused = await legacy('/update-beneficiary-details', legacyBody({}, [{ PayeeFunctionalID: unknown, PaymentModality: '01', FinancialAddress: msisdn() }]));
      assert.equal(refused.status, 200);
      assert.equal(refused.body.ResponseCode, '01');
      assert.match(refused.body.ResponseDescription, new RegExp(`^1 of 1 beneficiaries not updated: ${unknown} unknown: not registered by this institution$`));
    });

    it('when the same RequestID is sent twice with the same body, then the answer is the same and nothing is registered twice; with another body, 409', async () => {
      const body = legacyBody();
      const first = await legacy('/register-beneficiary', body);
      assert.equal(first.body.ResponseCode, '00');
      const countAfterFirst = await beneficiaryCount();
      const again = await legacy('/register-beneficiary', body);
      assert.deepEqual(again.body, first.body, 'a repeat is answered "00" again, not reported as a duplicate of itself');
      assert.equal(await beneficiaryCount(), countAfterFirst);
      assertGovStackRefusal(await legacy('/register-beneficiary', { ...body, Beneficiaries: [{ PayeeFunctionalID: newFunctionalId() }] }), 409, body.RequestID, /already used/);
    });
  });
});
