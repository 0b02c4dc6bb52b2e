import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { isRailError, RailCallbackRejected, type RailCallbackRequest, type RailPayment } from '../../adapters/contract.ts';
import { createRailRegistry } from '../../adapters/registry.ts';
import { SANDBOX_DEFAULT_CALLBACK_SECRET, SandboxRailAdapter, sandboxRail } from '../../adapters/sandbox/index.ts';
import { SandboxUnreachable, setSandboxBalance, signSandboxCallback, startSandboxSimulator, type SandboxSimulator } from '../../adapters/sandbox/simulator.ts';
import { describeRailAdapterContract, freshKey } from './rail-adapter-contract.ts';
import { freePort } from '../support/ports.ts';
import { startPushReceiver, type PushReceiver } from '../support/push-receiver.ts';
import { outcomeOf, rejection, railErrorFrom } from '../support/rail-assertions.ts';

const PAYEE_SUFFIX = { completed: '5555', failed: '0000', pending: '0002' } as const;
/** Nothing listens on the discard port: callbacks sent there fail fast and are dropped. */
const UNREACHABLE_CALLBACK_URL = 'http://127.0.0.1:9/v1/rails/sandbox/callbacks';
const SETTLE_MS = 100;

function payment(payeeSuffix: string, overrides: Partial<RailPayment> = {}): RailPayment {
  return {
    railKey: freshKey('K'),
    kind: 'benefit',
    amount: { minor: 12_550n, currency: 'KES' },
    payer: { type: 'bank_account', value: 'TREASURY-001', institution: 'CBK' },
    payee: { type: 'msisdn', value: `25471234${payeeSuffix}` },
    reference: 'Child benefit March',
    callbackUrl: UNREACHABLE_CALLBACK_URL,
    ...overrides,
  };
}

function feePayment(overrides: Partial<RailPayment> = {}): RailPayment {
  return payment('5555', {
    kind: 'fee',
    amount: { minor: 2_000n, currency: 'KES' },
    payer: { type: 'msisdn', value: '254700111222' },
    payee: { type: 'bank_account', value: 'REVENUE-5555', institution: 'CBK' },
    reference: 'Passport fee',
    ...overrides,
  });
}

async function callbackRejection(promise: Promise<unknown>, reason: RegExp): Promise<void> {
  const error = await rejection(promise);
  assert.ok(error instanceof RailCallbackRejected, `expected RailCallbackRejected, got ${String(error)}`);
  assert.match(error.message, reason);
}

const today = () => new Date().toISOString().slice(0, 10);
const yesterday = () => new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);

// ── the contract every adapter passes ──────────────────────────────────────────────────────────────────

describeRailAdapterContract('sandbox', async () => {
  const simulator = await startSandboxSimulator({ settleDelayMs: SETTLE_MS, callbackSecret: 'contract-fixture-secret-0123456789' });
  const receiver = await startSandboxPushReceiver();
  const adapter = sandboxRail.create(sandboxRail.optionsSchema.parse({ baseUrl: simulator.url, timeoutMs: '2000', callbackSecret: simulator.callbackSecret }));
  return {
    adapter,
    paymentFor: (outcome) => payment(PAYEE_SUFFIX[outcome], { callbackUrl: receiver.url }),
    forgeCallback() {
      const body = JSON.stringify({ key: freshKey('K'), status: 'completed', rail_reference: 'SBX-999999' });
      return { headers: { 'sandbox-signature': signSandboxCallback(body, 'an-attacker-guessing-the-secret') }, rawBody: Buffer.from(body) };
    },
    async validCallbackFor(p) {
      const [callback] = await receiver.waitFor(p.railKey);
      return { headers: callback!.headers, rawBody: callback!.rawBody };
    },
    async teardown() {
      await adapter.close();
      await simulator.close();
      await receiver.close();
    },
  };
});

// ── the sandbox rail itself ────────────────────────────────────────────────────────────────────────────

describe('sandbox rail', function () {
  this.timeout(5_000);
  let simulator: SandboxSimulator;
  let adapter: SandboxRailAdapter;
  let receiver: PushReceiver;

  beforeEach(async () => {
    simulator = await startSandboxSimulator({ settleDelayMs: SETTLE_MS });
    adapter = new SandboxRailAdapter({ baseUrl: simulator.url, timeoutMs: 2_000 }); // both on the default callback secret
    receiver = await startSandboxPushReceiver();
  });
  afterEach(async () => {
    await adapter.close();
    await simulator.close();
    await receiver.close();
  });

  describe('simulator', () => {
    it('when a key is sent three times, then the rail executes it once and counts three requests', async () => {
      const p = payment('5555');
      const other = payment('5555');
      const references = new Set<string>();
      for (let i = 0; i < 3; i++) {
        const outcome = outcomeOf(await adapter.initiateChunk([p]), p);
        assert.equal(outcome.status, 'completed');
        if (outcome.status === 'completed') references.add(outcome.railReference);
      }
      await adapter.initiateChunk([other]);

      assert.equal(references.size, 1);
      assert.equal(simulator.executions(p.railKey), 1);
      assert.equal(simulator.requestCount(p.railKey), 3);
      assert.deepEqual([...simulator.executionCounts()].sort(), [[p.railKey, 1], [other.railKey, 1]].sort());
    });

    it('when a key is reused for a different payment, then that request is declined DU05 and the first execution stands', async () => {
      const original = payment('5555');
      const first = outcomeOf(await adapter.initiateChunk([original]), original);
      const changed = { ...original, amount: { minor: 99_999n, currency: 'KES' } };

      const second = outcomeOf(await adapter.initiateChunk([changed]), changed);

      assert.equal(second.status, 'failed');
      if (second.status === 'failed') assert.equal(second.reasonCode, 'DU05');
      assert.equal(simulator.executions(original.railKey), 1);
      assert.deepEqual(await adapter.getStatus(original.railKey), first);
    });

    it('when payees end in 0000, 0001, 0002 or anything else, then the outcomes follow the documented rules', async () => {
      const closed = payment('0000');
      const broke = payment('0001');
      const slow = payment('0002');
      const fine = payment('1234');
      const outcomes = await adapter.initiateChunk([closed, broke, slow, fine]);

      const closedAccount = outcomeOf(outcomes, closed);
      assert.ok(closedAccount.status === 'failed');
      assert.equal(closedAccount.reasonCode, 'AC04');
      assert.equal(closedAccount.reason, 'closed account');
      const insufficient = outcomeOf(outcomes, broke);
      assert.ok(insufficient.status === 'failed');
      assert.equal(insufficient.reasonCode, 'AM04');
      assert.equal(insufficient.reason, 'insufficient funds');
      assert.equal(outcomeOf(outcomes, slow).status, 'pending');
      const completed = outcomeOf(outcomes, fine);
      assert.ok(completed.status === 'completed' && /^SBX-\d+$/.test(completed.railReference));

      await delay(SETTLE_MS + 50);
      assert.equal((await adapter.getStatus(slow.railKey)).status, 'completed');
      assert.equal(outcomeOf(await adapter.initiateChunk([slow]), slow).status, 'completed', 'a repeat answers the current state');
      assert.equal(simulator.executions(slow.railKey), 1);
    });

    it('when the body is malformed, then the simulator answers 400 problem JSON and executes nothing', async () => {
      const notJson = await fetch(`${simulator.url}/v1/transfers`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"transfers": [' });
      assert.equal(notJson.status, 400);
      assert.match(notJson.headers.get('content-type') ?? '', /^application\/problem\+json/);

      const badAmount = await postTransfers(simulator, [{ ...wire(payment('5555')), amount_minor: '12.50' }]);
      assert.equal(badAmount.status, 400);
      const problem = (await badAmount.json()) as { code: string; errors: { field: string }[] };
      assert.equal(problem.code, 'validation_failed');
      assert.deepEqual(problem.errors.map((e) => e.field), ['transfers.0.amount_minor']);

      const badCallbackUrl = await postTransfers(simulator, [{ ...wire(payment('5555')), callback_url: 'ftp://example.org/x' }]);
      assert.equal(badCallbackUrl.status, 400);
      assert.deepEqual(((await badCallbackUrl.json()) as { errors: { field: string }[] }).errors.map((e) => e.field), ['transfers.0.callback_url']);

      const tooMany = Array.from({ length: 2001 }, () => wire(payment('5555')));
      assert.equal((await postTransfers(simulator, tooMany)).status, 400);
      assert.equal(simulator.executionCounts().size, 0);
    });

    it('when the behaviour and counts are driven over HTTP, then the control endpoints work', async () => {
      const p = payment('5555');
      const down = await putJson(`${simulator.url}/_sim/behaviour`, { mode: 'down' });
      assert.equal(down.status, 204);
      const refused = await postTransfers(simulator, [wire(p)]);
      assert.equal(refused.status, 503);
      assert.match(refused.headers.get('content-type') ?? '', /^application\/problem\+json/);

      assert.equal((await putJson(`${simulator.url}/_sim/behaviour`, { mode: 'sideways' })).status, 400);

      await putJson(`${simulator.url}/_sim/behaviour`, { mode: 'normal' });
      await adapter.initiateChunk([p]);
      await adapter.initiateChunk([p]);
      const counts = await fetch(`${simulator.url}/_sim/executions/${encodeURIComponent(p.railKey)}`);
      assert.deepEqual(await counts.json(), { key: p.railKey, executions: 1, requests: 2 });

      const reset = await fetch(`${simulator.url}/_sim/reset`, { method: 'POST' });
      assert.equal(reset.status, 204);
      assert.equal(simulator.executions(p.railKey), 0);
      assert.deepEqual(await adapter.getStatus(p.railKey), { status: 'not_found' });
    });

    it('when close() is called while a request is held, then it returns promptly and the request is dropped', async () => {
      simulator.setBehaviour({ mode: 'timeout' }); // holds for 60 s
      const p = payment('5555');
      const held = postTransfers(simulator, [wire(p)]);
      const heldOutcome = held.then(
        () => 'answered',
        () => 'dropped',
      );
      while (simulator.requestCount(p.railKey) === 0) await delay(5);

      const closed = await Promise.race([simulator.close().then(() => 'closed'), delay(2_000, 'still open')]);

      assert.equal(closed, 'closed');
      assert.equal(await heldOutcome, 'dropped');
    });
  });

  describe('callbacks', () => {
    it('when a pending transfer settles, then its callback_url receives one signed notification that the adapter accepts', async () => {
      const p = payment('0002', { callbackUrl: receiver.url });
      const initial = outcomeOf(await adapter.initiateChunk([p]), p);
      assert.equal(initial.status, 'pending');

      const [callback] = await receiver.waitFor(p.railKey);
      await delay(SETTLE_MS); // room for a wrong second delivery

      assert.equal(receiver.about(p.railKey).length, 1);
      assert.equal(simulator.callbacksSent(p.railKey), 1);
      assert.match(String(callback!.headers['sandbox-signature']), /^t=\d+,v1=[0-9a-f]{64}$/);
      assert.equal(callback!.headers['content-type'], 'application/json');
      const notifications = await adapter.parseCallback(callback!);
      assert.deepEqual(notifications, [{ railKey: p.railKey, outcome: { status: 'completed', railReference: (initial as { railReference?: string }).railReference } }]);
    });

    it('when transfers are final at once and callbackAll is off, then no callback is sent for them', async () => {
      const completed = payment('5555', { callbackUrl: receiver.url });
      const declined = payment('0000', { callbackUrl: receiver.url });
      await adapter.initiateChunk([completed, declined]);

      await delay(SETTLE_MS + 100);

      assert.equal(receiver.pushes.length, 0);
      assert.equal(simulator.callbacksSent(completed.railKey) + simulator.callbacksSent(declined.railKey), 0);
    });

    it('when callbackAll is on, then transfers final at once are notified too, a decline with its reason code', async () => {
      const everything = await startSandboxSimulator({ settleDelayMs: SETTLE_MS, callbackAll: true });
      const everythingAdapter = new SandboxRailAdapter({ baseUrl: everything.url, timeoutMs: 2_000 });
      try {
        const completed = payment('5555', { callbackUrl: receiver.url });
        const declined = payment('0000', { callbackUrl: receiver.url });
        const outcomes = await everythingAdapter.initiateChunk([completed, declined]);

        const [completedCallback] = await receiver.waitFor(completed.railKey);
        const [declinedCallback] = await receiver.waitFor(declined.railKey);

        assert.deepEqual(await adapter.parseCallback(completedCallback!), [{ railKey: completed.railKey, outcome: outcomeOf(outcomes, completed) }]);
        const [notification] = await adapter.parseCallback(declinedCallback!);
        assert.ok(notification?.outcome.status === 'failed');
        assert.equal(notification.outcome.reasonCode, 'AC04');
        assert.equal(notification.outcome.reason, 'closed account');
        assert.equal(everything.callbacksSent(completed.railKey), 1);
      } finally {
        await everythingAdapter.close();
        await everything.close();
      }
    });

    it('when callbacks are set to duplicate, then every notification is delivered twice with the same body', async () => {
      simulator.setCallbackBehaviour({ mode: 'duplicate' });
      const p = payment('0002', { callbackUrl: receiver.url });
      await adapter.initiateChunk([p]);

      const [first, second] = await receiver.waitFor(p.railKey, 2);

      assert.deepEqual(first!.rawBody, second!.rawBody);
      assert.deepEqual(await adapter.parseCallback(second!), await adapter.parseCallback(first!));
      assert.equal(simulator.callbacksSent(p.railKey), 2);
    });

    it('when callbacks are set to early, then the callback arrives before the answer to the POST that executed the payment', async () => {
      simulator.setCallbackBehaviour({ mode: 'early' });
      const completed = payment('5555', { callbackUrl: receiver.url });
      const declined = payment('0001', { callbackUrl: receiver.url });

      const outcomes = await adapter.initiateChunk([completed, declined]);
      receiver.events.push('answer');

      assert.deepEqual(receiver.events.slice(-1), ['answer']);
      assert.deepEqual(new Set(receiver.events.slice(0, -1)), new Set([`callback:${completed.railKey}`, `callback:${declined.railKey}`]));
      const [early] = await adapter.parseCallback(receiver.about(completed.railKey)[0]!);
      assert.deepEqual(early?.outcome, outcomeOf(outcomes, completed));
    });

    it('when callbacks are set to never, then the payment settles but no callback is ever sent', async () => {
      simulator.setCallbackBehaviour({ mode: 'never' });
      const p = payment('0002', { callbackUrl: receiver.url });
      await adapter.initiateChunk([p]);

      await delay(SETTLE_MS + 200);
      simulator.setCallbackBehaviour({ mode: 'normal' });
      await delay(100);

      assert.equal((await adapter.getStatus(p.railKey)).status, 'completed');
      assert.equal(receiver.pushes.length, 0);
      assert.equal(simulator.callbacksSent(p.railKey), 0);
    });

    it('when the receiver fails, then the rail retries with backoff and finally drops the notification', async () => {
      const patient = await startSandboxSimulator({ settleDelayMs: 20, callbackRetryDelaysMs: [20, 40, 80] });
      const patientAdapter = new SandboxRailAdapter({ baseUrl: patient.url, timeoutMs: 2_000 });
      try {
        const recovers = payment('0002', { callbackUrl: receiver.url });
        const broken = payment('0002', { callbackUrl: receiver.url });
        receiver.answer = (key, attempt) => (key === broken.railKey ? 500 : attempt < 2 ? 503 : 204);

        await patientAdapter.initiateChunk([recovers, broken]);
        await receiver.waitFor(recovers.railKey, 3);
        await receiver.waitFor(broken.railKey, 4);
        await delay(200); // no fifth attempt

        assert.equal(receiver.about(recovers.railKey).length, 3);
        assert.equal(patient.callbacksSent(recovers.railKey), 1);
        assert.equal(receiver.about(broken.railKey).length, 4, 'one delivery and three retries');
        assert.equal(patient.callbacksSent(broken.railKey), 0);
      } finally {
        await patientAdapter.close();
        await patient.close();
      }
    });

    it('when the callback behaviour is driven over HTTP, then PUT /_sim/callbacks switches it and GET counts deliveries', async () => {
      assert.equal((await putJson(`${simulator.url}/_sim/callbacks`, { mode: 'sometimes' })).status, 400);
      assert.equal((await putJson(`${simulator.url}/_sim/callbacks`, { mode: 'duplicate' })).status, 204);
      const p = payment('0002', { callbackUrl: receiver.url });
      await adapter.initiateChunk([p]);
      await receiver.waitFor(p.railKey, 2);

      const counts = await fetch(`${simulator.url}/_sim/callbacks/${encodeURIComponent(p.railKey)}`);

      assert.deepEqual(await counts.json(), { key: p.railKey, sent: 2 });
    });

    it('when the simulator is reset while a payment is pending, then the payment is forgotten and no callback follows', async () => {
      const p = payment('0002', { callbackUrl: receiver.url });
      await adapter.initiateChunk([p]);

      simulator.reset();
      await delay(SETTLE_MS + 150);

      assert.equal(receiver.pushes.length, 0);
      assert.deepEqual(await adapter.getStatus(p.railKey), { status: 'not_found' });
    });
  });

  describe('callback signatures', () => {
    const secret = SANDBOX_DEFAULT_CALLBACK_SECRET;
    const notification = { key: 'K123', status: 'failed', rail_reference: 'SBX-7', reason_code: 'AC04', reason: 'closed account' };
    const now = () => Math.floor(Date.now() / 1000);
    const signed = (body: string, options: { secret?: string; t?: number; header?: string } = {}): RailCallbackRequest => ({
      headers: { [options.header ?? 'Sandbox-Signature']: signSandboxCallback(body, options.secret ?? secret, options.t) },
      rawBody: Buffer.from(body),
    });

    it('when a callback is signed with the shared secret, then it parses to the rail key and outcome, whatever the header case', async () => {
      const body = JSON.stringify(notification);

      const expected = [{ railKey: 'K123', outcome: { status: 'failed', reasonCode: 'AC04', reason: 'closed account', railReference: 'SBX-7' } }];
      assert.deepEqual(await adapter.parseCallback(signed(body)), expected);
      assert.deepEqual(await adapter.parseCallback(signed(body, { header: 'sandbox-signature' })), expected);
    });

    it('when the signature header is missing, malformed or made with another secret, then the callback is rejected saying why', async () => {
      const body = JSON.stringify(notification);
      await callbackRejection(adapter.parseCallback({ headers: { 'content-type': 'application/json' }, rawBody: Buffer.from(body) }), /header is missing/);
      await callbackRejection(adapter.parseCallback({ headers: { 'sandbox-signature': 'sha256=abc' }, rawBody: Buffer.from(body) }), /malformed/);
      await callbackRejection(adapter.parseCallback({ headers: { 'sandbox-signature': `t=${now()}` }, rawBody: Buffer.from(body) }), /malformed/);
      await callbackRejection(adapter.parseCallback({ headers: { 'sandbox-signature': `t=${now()},v1=${'0'.repeat(63)}` }, rawBody: Buffer.from(body) }), /malformed/);
      await callbackRejection(adapter.parseCallback({ headers: { 'sandbox-signature': [signed(body).headers['Sandbox-Signature'] as string, 't=1,v1=00'] }, rawBody: Buffer.from(body) }), /more than one/);
      await callbackRejection(adapter.parseCallback(signed(body, { secret: 'someone-else-entirely-0123' })), /does not match/);
    });

    it('when the body was altered after signing, then the callback is rejected', async () => {
      const request = signed(JSON.stringify({ ...notification, status: 'completed', reason_code: undefined, reason: undefined }));
      const tampered = Buffer.from(request.rawBody.toString('utf8').replace('SBX-7', 'SBX-8'));

      await callbackRejection(adapter.parseCallback({ headers: request.headers, rawBody: tampered }), /does not match/);
    });

    it('when the signed timestamp is more than five minutes off, then a genuine signature is rejected as a replay', async () => {
      const body = JSON.stringify(notification);

      await callbackRejection(adapter.parseCallback(signed(body, { t: now() - 301 })), /tolerance/);
      await callbackRejection(adapter.parseCallback(signed(body, { t: now() + 301 })), /tolerance/);
      assert.equal((await adapter.parseCallback(signed(body, { t: now() - 290 }))).length, 1, 'within the tolerance it is accepted');
    });

    it('when a genuinely signed body is not JSON or not a notification, then the callback is rejected', async () => {
      await callbackRejection(adapter.parseCallback(signed('{"key": ')), /not JSON/);
      await callbackRejection(adapter.parseCallback(signed(JSON.stringify({ ...notification, status: 'lost' }))), /not a sandbox notification: status/);
      await callbackRejection(adapter.parseCallback(signed(JSON.stringify({ key: 'K1', status: 'completed' }))), /rail_reference/);
    });

    it('when the header carries several v1 signatures (a secret rotation), then one that matches is enough', async () => {
      const body = JSON.stringify(notification);
      const t = now();
      const good = signSandboxCallback(body, secret, t).split(',v1=')[1]!;
      const old = signSandboxCallback(body, 'the-previous-secret-0123456', t).split(',v1=')[1]!;

      const notifications = await adapter.parseCallback({ headers: { 'sandbox-signature': `t=${t},v1=${old},v1=${good}` }, rawBody: Buffer.from(body) });

      assert.equal(notifications[0]?.railKey, 'K123');
    });
  });

  describe('refunds', () => {
    it('when a completed transfer is refunded in parts, then each refund key executes once and the total cannot exceed the original', async () => {
      const p = payment('5555');
      await adapter.initiateChunk([p]);
      const firstKey = freshKey('R');

      const first = await adapter.refund(p.railKey, { minor: 5_000n, currency: 'KES' }, firstKey);
      const again = await adapter.refund(p.railKey, { minor: 5_000n, currency: 'KES' }, firstKey);
      const rest = await adapter.refund(p.railKey, { minor: 7_550n, currency: 'KES' }, freshKey('R'));
      const oneMore = await adapter.refund(p.railKey, { minor: 1n, currency: 'KES' }, freshKey('R'));

      assert.ok(first.status === 'completed' && /^SBX-\d+$/.test(first.railReference));
      assert.deepEqual(again, first);
      assert.equal(rest.status, 'completed');
      assert.ok(oneMore.status === 'failed');
      assert.equal(oneMore.reasonCode, 'AM09');
      const refunds = (await adapter.fetchStatement({ from: today(), to: today() })).filter((e) => e.reversal);
      assert.deepEqual(refunds.map((e) => e.amount.minor).sort(), [5_000n, 7_550n]);
    });

    it('when a refund asks for more than the original amount, then it is declined AM09 and nothing is booked', async () => {
      const p = payment('5555');
      await adapter.initiateChunk([p]);

      const outcome = await adapter.refund(p.railKey, { minor: 12_551n, currency: 'KES' }, freshKey('R'));

      assert.ok(outcome.status === 'failed');
      assert.equal(outcome.reasonCode, 'AM09');
      assert.match(outcome.reason, /exceeds.*12550/);
      assert.equal((await adapter.fetchStatement({ from: today(), to: today() })).filter((e) => e.reversal).length, 0);
    });

    it('when a refund key is reused for a different refund, then it is declined DU05 and the first refund stands', async () => {
      const p = payment('5555');
      const q = payment('5555');
      await adapter.initiateChunk([p, q]);
      const refundKey = freshKey('R');
      const first = await adapter.refund(p.railKey, { minor: 100n, currency: 'KES' }, refundKey);

      const otherAmount = await adapter.refund(p.railKey, { minor: 200n, currency: 'KES' }, refundKey);
      const otherTransfer = await adapter.refund(q.railKey, { minor: 100n, currency: 'KES' }, refundKey);

      assert.ok(otherAmount.status === 'failed' && otherAmount.reasonCode === 'DU05');
      assert.ok(otherTransfer.status === 'failed' && otherTransfer.reasonCode === 'DU05');
      assert.deepEqual(await adapter.refund(p.railKey, { minor: 100n, currency: 'KES' }, refundKey), first);
    });

    it('when the transfer was declined, is still pending or is in another currency, then the refund is declined with a reason code', async () => {
      const declined = payment('0000');
      const pending = payment('0002');
      const fine = payment('5555');
      await adapter.initiateChunk([declined, pending, fine]);

      const onDeclined = await adapter.refund(declined.railKey, declined.amount, freshKey('R'));
      const onPending = await adapter.refund(pending.railKey, pending.amount, freshKey('R'));
      const wrongCurrency = await adapter.refund(fine.railKey, { minor: 100n, currency: 'EUR' }, freshKey('R'));

      assert.ok(onDeclined.status === 'failed' && onDeclined.reasonCode === 'NOT_COMPLETED');
      assert.ok(onPending.status === 'failed' && onPending.reasonCode === 'NOT_COMPLETED');
      assert.ok(wrongCurrency.status === 'failed' && wrongCurrency.reasonCode === 'AM03');
    });

    it('when the transfer key is unknown, then refund throws a plain Error (a bug), not a RailError; when the rail is down, a RailError unavailable', async () => {
      const unknown = await rejection(adapter.refund(freshKey('K'), { minor: 100n, currency: 'KES' }, freshKey('R')));
      assert.ok(unknown instanceof Error && !isRailError(unknown));
      assert.match(unknown.message, /HTTP 404/);

      simulator.setBehaviour({ mode: 'down' });
      assert.equal((await railErrorFrom(adapter.refund(freshKey('K'), { minor: 100n, currency: 'KES' }, freshKey('R')))).decision, 'unavailable');
    });
  });

  describe('statement', () => {
    it('when benefits, fees and refunds were executed, then the statement books each with direction and reversal, and declines and pending transfers not until they settle', async () => {
      const benefit = payment('5555');
      const fee = feePayment();
      const declined = payment('0000');
      const pending = payment('0002');
      const outcomes = await adapter.initiateChunk([benefit, fee, declined, pending]);
      const refundKey = freshKey('R');
      const refund = await adapter.refund(fee.railKey, { minor: 500n, currency: 'KES' }, refundKey);

      const before = await adapter.fetchStatement({ from: today(), to: today() });
      await delay(SETTLE_MS + 50);
      const after = await adapter.fetchStatement({ from: today(), to: today() });

      const reference = (p: RailPayment) => (outcomeOf(outcomes, p) as { railReference: string }).railReference;
      assert.deepEqual(
        before.map((e) => ({ ...e })),
        [
          { railKey: benefit.railKey, railReference: reference(benefit), amount: benefit.amount, direction: 'debit', bookingDate: today(), valueDate: today(), reversal: false, counterparty: benefit.payee.value },
          { railKey: fee.railKey, railReference: reference(fee), amount: fee.amount, direction: 'credit', bookingDate: today(), valueDate: today(), reversal: false, counterparty: fee.payer.value },
          { railKey: refundKey, railReference: (refund as { railReference: string }).railReference, amount: { minor: 500n, currency: 'KES' }, direction: 'debit', bookingDate: today(), valueDate: today(), reversal: true, counterparty: fee.payer.value },
        ],
      );
      assert.deepEqual(after.slice(0, 3), before);
      assert.deepEqual(after.slice(3).map((e) => [e.railKey, e.direction, e.amount.minor]), [[pending.railKey, 'debit', 12_550n]]);
      assert.ok(!after.some((e) => e.railKey === declined.railKey), 'a decline moves no money');
    });

    it('when the range excludes today, then the statement is empty; an invalid range is refused as a plain Error', async () => {
      const p = payment('5555');
      await adapter.initiateChunk([p]);

      assert.deepEqual(await adapter.fetchStatement({ from: yesterday(), to: yesterday() }), []);
      for (const range of [
        { from: today(), to: yesterday() },
        { from: '2025-02-30', to: '2025-03-01' },
        { from: '2024-01-01', to: '2025-12-31' },
        { from: 'yesterday', to: today() },
      ]) {
        const error = await rejection(adapter.fetchStatement(range));
        assert.ok(error instanceof Error && !isRailError(error), `${JSON.stringify(range)}: ${String(error)}`);
        assert.match(error.message, /HTTP 400/);
      }
    });
  });

  describe('balances', () => {
    const treasury = { type: 'bank_account', value: 'TREASURY-001' } as const;
    const shop = { type: 'msisdn', value: '254712345555' } as const;
    const balanceUrl = (account: { type: string; value: string }, currency: string) =>
      `${simulator.url}/v1/accounts/${encodeURIComponent(account.type)}/${encodeURIComponent(account.value)}/balance?currency=${currency}`;
    const controlUrl = (account: { type: string; value: string }) => `${simulator.url}/_sim/accounts/${encodeURIComponent(account.type)}/${encodeURIComponent(account.value)}`;

    it('when a balance is set over HTTP, then it is read back in its currency only, a malformed one is refused, and reset forgets it', async () => {
      const plus = { type: 'msisdn', value: '+254733000001' };
      assert.equal((await putJson(controlUrl(plus), { currency: 'KES', balance_minor: '150000' })).status, 204);
      assert.equal((await putJson(controlUrl(plus), { currency: 'KES', balance_minor: '150000' })).status, 204, 'setting the same figure again is fine');

      const read = await fetch(balanceUrl(plus, 'KES'));
      assert.equal(read.status, 200);
      assert.deepEqual(await read.json(), { type: 'msisdn', value: '+254733000001', currency: 'KES', balance_minor: '150000' });
      assert.equal(simulator.balance(plus, 'KES'), 150_000n);
      const otherCurrency = await fetch(balanceUrl(plus, 'EUR'));
      assert.equal(otherCurrency.status, 404);
      assert.match(otherCurrency.headers.get('content-type') ?? '', /^application\/problem\+json/);
      assert.equal((await fetch(balanceUrl({ type: 'msisdn', value: '+254733000002' }, 'KES'))).status, 404);
      assert.equal((await fetch(`${simulator.url}/v1/accounts/msisdn/1/balance`)).status, 400, 'the currency is required');

      for (const body of [{ currency: 'KES', balance_minor: '-1' }, { currency: 'KES', balance_minor: '12.50' }, { currency: 'KES', balance_minor: 100 }, { currency: 'kes', balance_minor: '1' }, { balance_minor: '1' }]) {
        const refused = await putJson(controlUrl(plus), body);
        assert.equal(refused.status, 400, JSON.stringify(body));
        assert.equal(((await refused.json()) as { code: string }).code, 'validation_failed');
      }
      assert.equal(simulator.balance(plus, 'KES'), 150_000n, 'a refused request changes nothing');
      assert.throws(() => simulator.setBalance(plus, 'KES', -1n), /at least 0/);

      simulator.setBehaviour({ mode: 'down' });
      assert.equal((await putJson(controlUrl(plus), { currency: 'KES', balance_minor: '7' })).status, 204, 'control is never affected by behaviour');
      assert.equal((await fetch(balanceUrl(plus, 'KES'))).status, 503);

      assert.equal((await fetch(`${simulator.url}/_sim/reset`, { method: 'POST' })).status, 204);
      assert.equal(simulator.balance(plus, 'KES'), undefined);
      assert.equal((await fetch(balanceUrl(plus, 'KES'))).status, 404);
    });

    it('when setSandboxBalance is used, then the balance is set, and an absent or foreign server is told apart', async () => {
      const account = { type: 'msisdn', value: '+254733 000/1?' };
      await setSandboxBalance(`${simulator.url}/`, account, 'KES', 4_200n);
      assert.equal(simulator.balance(account, 'KES'), 4_200n, 'the value reaches the rail intact');

      const closedPort = await freePort();
      const unreachable = await rejection(setSandboxBalance(`http://127.0.0.1:${closedPort}`, account, 'KES', 1n));
      assert.ok(unreachable instanceof SandboxUnreachable);
      assert.equal(unreachable.message, `the sandbox rail simulator at http://127.0.0.1:${closedPort} cannot be reached (ECONNREFUSED)`);
      const foreign = await rejection(setSandboxBalance(`${simulator.url}/elsewhere`, account, 'KES', 1n));
      assert.ok(foreign instanceof Error && !(foreign instanceof SandboxUnreachable));
      assert.match(foreign.message, /answered HTTP 404 to setting a balance; is it a sandbox rail simulator\?/);
      assert.equal(simulator.balance(account, 'KES'), 4_200n);
    });

    it('when benefits and fees complete, then each moves its amount from payer to payee where balances are tracked, once per key', async () => {
      simulator.setBalance(treasury, 'KES', 100_000n);
      simulator.setBalance(shop, 'KES', 500n);
      const benefit = payment('5555', { payer: { ...treasury, institution: 'CBK' }, payee: shop, amount: { minor: 12_550n, currency: 'KES' } });
      const fee = feePayment({ payer: shop, payee: { type: 'bank_account', value: 'REVENUE-5555' }, amount: { minor: 2_000n, currency: 'KES' } });
      const euros = payment('5555', { payer: treasury, payee: shop, amount: { minor: 999_999n, currency: 'EUR' } });

      const outcomes = await adapter.initiateChunk([benefit, euros]);
      await adapter.initiateChunk([fee]);
      await adapter.initiateChunk([benefit]);

      assert.equal(outcomeOf(outcomes, benefit).status, 'completed');
      assert.equal(outcomeOf(outcomes, euros).status, 'completed', 'no balance was set in EUR: unlimited');
      assert.equal(simulator.balance(treasury, 'KES'), 100_000n - 12_550n, 'the payer is debited, once despite the repeat');
      assert.equal(simulator.balance(shop, 'KES'), 500n + 12_550n - 2_000n, 'credited by the benefit, debited by the fee it paid');
      assert.equal(simulator.balance({ type: 'bank_account', value: 'REVENUE-5555' }, 'KES'), undefined, 'an untracked payee stays untracked');
      assert.equal(simulator.balance(shop, 'EUR'), undefined);
    });

    it('when the payer\'s balance is below the amount, then the transfer fails AM04, counts as an execution and moves nothing', async () => {
      simulator.setBalance(treasury, 'KES', 12_549n);
      simulator.setBalance(shop, 'KES', 0n);
      const short = payment('5555', { payer: treasury, payee: shop });
      const shortPending = payment('0002', { payer: treasury });

      const outcomes = await adapter.initiateChunk([short, shortPending]);

      const declined = outcomeOf(outcomes, short);
      assert.ok(declined.status === 'failed');
      assert.equal(declined.reasonCode, 'AM04');
      assert.equal(declined.reason, 'insufficient funds');
      assert.equal(outcomeOf(outcomes, shortPending).status, 'failed', 'a transfer that would stay pending is declined at once too');
      assert.equal(simulator.executions(short.railKey), 1);
      assert.equal(simulator.balance(treasury, 'KES'), 12_549n);
      assert.equal(simulator.balance(shop, 'KES'), 0n);
      assert.equal((await adapter.fetchStatement({ from: today(), to: today() })).length, 0, 'a decline books nothing');

      simulator.setBalance(treasury, 'KES', 12_550n);
      const exact = payment('5555', { payer: treasury, payee: shop });
      assert.equal(outcomeOf(await adapter.initiateChunk([exact]), exact).status, 'completed', 'a balance equal to the amount covers it');
      assert.equal(simulator.balance(treasury, 'KES'), 0n);
      assert.equal(simulator.balance(shop, 'KES'), 12_550n);
    });

    it('when a transfer is pending, then the money moves when it settles, and fails AM04 then if the payer spent it meanwhile', async () => {
      const slowPayee = { type: 'msisdn', value: '254712340002' } as const;
      simulator.setBalance(treasury, 'KES', 20_000n);
      simulator.setBalance(slowPayee, 'KES', 0n);
      const first = payment('0002', { payer: treasury, payee: slowPayee });
      assert.equal(outcomeOf(await adapter.initiateChunk([first]), first).status, 'pending');
      assert.equal(simulator.balance(treasury, 'KES'), 20_000n, 'nothing moves while pending');

      await delay(SETTLE_MS + 50);
      assert.equal((await adapter.getStatus(first.railKey)).status, 'completed');
      const read = await fetch(balanceUrl(slowPayee, 'KES'));
      assert.equal(((await read.json()) as { balance_minor: string }).balance_minor, '12550');
      assert.equal(simulator.balance(treasury, 'KES'), 20_000n - 12_550n);

      const second = payment('0002', { payer: treasury, payee: slowPayee, amount: { minor: 7_000n, currency: 'KES' } });
      assert.equal(outcomeOf(await adapter.initiateChunk([second]), second).status, 'pending');
      const spend = payment('5555', { payer: treasury, payee: shop, amount: { minor: 1_000n, currency: 'KES' } });
      assert.equal(outcomeOf(await adapter.initiateChunk([spend]), spend).status, 'completed');
      await delay(SETTLE_MS + 50);

      const settled = await adapter.getStatus(second.railKey);
      assert.ok(settled.status === 'failed', JSON.stringify(settled));
      assert.equal(settled.reasonCode, 'AM04');
      assert.equal(simulator.balance(treasury, 'KES'), 20_000n - 12_550n - 1_000n);
      assert.equal(simulator.balance(slowPayee, 'KES'), 12_550n);
    });

    it('when a completed transfer is refunded, then the money moves back, and a refund the payee cannot cover is declined AM04', async () => {
      simulator.setBalance(treasury, 'KES', 50_000n);
      simulator.setBalance(shop, 'KES', 0n);
      const p = payment('5555', { payer: treasury, payee: shop });
      await adapter.initiateChunk([p]);

      const partly = await adapter.refund(p.railKey, { minor: 2_550n, currency: 'KES' }, freshKey('R'));
      assert.equal(partly.status, 'completed');
      assert.equal(simulator.balance(treasury, 'KES'), 50_000n - 12_550n + 2_550n);
      assert.equal(simulator.balance(shop, 'KES'), 10_000n);

      const spend = payment('5555', { payer: shop, payee: { type: 'msisdn', value: '254799995555' }, amount: { minor: 9_000n, currency: 'KES' } });
      assert.equal(outcomeOf(await adapter.initiateChunk([spend]), spend).status, 'completed');
      const refused = await adapter.refund(p.railKey, { minor: 1_001n, currency: 'KES' }, freshKey('R'));

      assert.ok(refused.status === 'failed');
      assert.equal(refused.reasonCode, 'AM04');
      assert.equal(simulator.balance(shop, 'KES'), 1_000n);
      assert.equal(simulator.balance(treasury, 'KES'), 40_000n);
      assert.equal((await adapter.refund(p.railKey, { minor: 1_000n, currency: 'KES' }, freshKey('R'))).status, 'completed');
      assert.equal(simulator.balance(shop, 'KES'), 0n);
    });
  });

  describe('account names', () => {
    it('when an account is looked up, then the rail answers the same fake name every time, and a value ending 9999 is unknown', async () => {
      const party = { type: 'msisdn', value: '254712345678' } as const;

      const name = await adapter.lookupAccountName(party);

      assert.match(name ?? '', /^[A-Z][a-z]+ [A-Z][a-z]+$/);
      assert.equal(await adapter.lookupAccountName(party), name);
      assert.equal(await adapter.lookupAccountName({ type: 'iban', value: 'DE89370400440532019999' }), undefined);
      const names = await Promise.all(['254700000011', '254700000012', '254700000013', '254700000014'].map((value) => adapter.lookupAccountName({ type: 'msisdn', value })));
      assert.ok(new Set(names).size > 1, 'names depend on the account');
    });

    it('when the account value needs escaping, then it still reaches the rail intact', async () => {
      assert.match((await adapter.lookupAccountName({ type: 'bank_account', value: 'GB/12 34?56#78' })) ?? '', /\S/);
    });
  });

  describe('adapter', () => {
    it('when the rail is down, then the adapter throws RailError unavailable and nothing is executed; when it is back, the same key goes through', async () => {
      const p = payment('5555');
      simulator.setBehaviour({ mode: 'down' });

      const error = await railErrorFrom(adapter.initiateChunk([p]));
      assert.equal(error.decision, 'unavailable');
      assert.equal(simulator.executions(p.railKey), 0);
      assert.equal((await railErrorFrom(adapter.getStatus(p.railKey))).decision, 'unavailable');
      assert.equal((await railErrorFrom(adapter.fetchStatement({ from: today(), to: today() }))).decision, 'unavailable');
      assert.equal((await railErrorFrom(adapter.lookupAccountName(p.payee))).decision, 'unavailable');

      simulator.setBehaviour({ mode: 'normal' });
      assert.equal(outcomeOf(await adapter.initiateChunk([p]), p).status, 'completed');
      assert.equal(simulator.executions(p.railKey), 1);
    });

    it('when the rail executes but answers after the timeout, then the adapter throws RailError unknown and getStatus finds it completed', async () => {
      const impatient = new SandboxRailAdapter({ baseUrl: simulator.url, timeoutMs: 200 });
      try {
        simulator.setBehaviour({ mode: 'timeout' });
        const p = payment('5555');

        const error = await railErrorFrom(impatient.initiateChunk([p]));

        assert.equal(error.decision, 'unknown');
        assert.equal(simulator.executions(p.railKey), 1);
        const status = await impatient.getStatus(p.railKey);
        assert.equal(status.status, 'completed');
      } finally {
        await impatient.close();
      }
    });

    it('when a refund is answered after the timeout, then it is RailError unknown and repeating the refund key answers the refund executed meanwhile', async () => {
      const impatient = new SandboxRailAdapter({ baseUrl: simulator.url, timeoutMs: 200 });
      try {
        const p = payment('5555');
        await adapter.initiateChunk([p]);
        const refundKey = freshKey('R');
        simulator.setBehaviour({ mode: 'timeout' });

        assert.equal((await railErrorFrom(impatient.refund(p.railKey, p.amount, refundKey))).decision, 'unknown');

        simulator.setBehaviour({ mode: 'normal' });
        assert.equal((await adapter.refund(p.railKey, p.amount, refundKey)).status, 'completed');
        assert.equal((await adapter.fetchStatement({ from: today(), to: today() })).filter((e) => e.reversal).length, 1);
      } finally {
        await impatient.close();
      }
    });

    it('when the simulator is closed, then the adapter throws RailError unavailable', async () => {
      const p = payment('5555');
      await adapter.initiateChunk([payment('5555')]); // leaves a pooled keep-alive connection behind
      await simulator.close();

      assert.equal((await railErrorFrom(adapter.initiateChunk([p]))).decision, 'unavailable');
      assert.equal((await railErrorFrom(adapter.getStatus(p.railKey))).decision, 'unavailable');
    });

    it('when the rail is slow but answers within the timeout, then the payment completes', async () => {
      simulator.setBehaviour({ mode: 'slow', delayMs: 150 });
      const p = payment('5555');
      const startedAt = performance.now();

      const outcome = outcomeOf(await adapter.initiateChunk([p]), p);

      assert.equal(outcome.status, 'completed');
      assert.ok(performance.now() - startedAt >= 140, 'slow mode answers late');
      assert.equal(simulator.executions(p.railKey), 1);
    });

    it('when a chunk is larger than maxChunkSize, then it is sent in pieces and every key gets an outcome', async () => {
      const payments = Array.from({ length: 2_345 }, (_, i) => payment(i % 10 === 0 ? '0001' : '5555'));

      const outcomes = await adapter.initiateChunk(payments);

      assert.equal(outcomes.size, payments.length);
      assert.ok(payments.every((p) => outcomeOf(outcomes, p).status === (p.payee.value.endsWith('0001') ? 'failed' : 'completed')));
      assert.equal(simulator.executionCounts().size, payments.length);
    });

    it('when a later piece of a large chunk fails, then earlier pieces keep their outcomes and the rest carry the error', async () => {
      const payments = Array.from({ length: 2_500 }, () => payment('5555'));
      const originalFetch = globalThis.fetch;
      let calls = 0;
      globalThis.fetch = (async (...args: Parameters<typeof fetch>) => {
        calls += 1;
        if (calls === 2) simulator.setBehaviour({ mode: 'down' });
        return originalFetch(...args);
      }) as typeof fetch;
      try {
        const outcomes = await adapter.initiateChunk(payments);

        assert.equal(outcomes.size, payments.length);
        assert.ok(payments.slice(0, 1_000).every((p) => outcomeOf(outcomes, p).status === 'completed'));
        for (const p of payments.slice(1_000)) {
          const outcome = outcomes.get(p.railKey);
          assert.ok(isRailError(outcome) && outcome.decision === 'unavailable');
        }
        assert.equal(calls, 2, 'a down rail is not sent the remaining piece');
        assert.equal(simulator.executionCounts().size, 1_000);
      } finally {
        globalThis.fetch = originalFetch;
      }
    });

    it('when the rail rejects the request as malformed, then the adapter throws a plain Error, not a RailError', async () => {
      const p = payment('5555', { amount: { minor: -5n, currency: 'KES' } });

      const error = await rejection(adapter.initiateChunk([p]));

      assert.ok(error instanceof Error);
      assert.equal(isRailError(error), false);
      assert.match(error.message, /HTTP 400.*amount_minor/);
    });

    it('when the adapter is closed, then further calls are refused', async () => {
      await adapter.close();
      await assert.rejects(adapter.getStatus('Kanything'), /closed/);
      await assert.rejects(adapter.refund('Kanything', { minor: 1n, currency: 'KES' }, 'Ranything'), /closed/);
    });
  });

  describe('options', () => {
    it('when options come from the environment as strings, then the schema coerces them and defaults the callback secret', () => {
      assert.equal(sandboxRail.id, 'sandbox');
      assert.deepEqual(sandboxRail.optionsSchema.parse({ baseUrl: 'http://127.0.0.1:8090', timeoutMs: ' 2500 ' }), {
        baseUrl: 'http://127.0.0.1:8090',
        timeoutMs: 2_500,
        callbackSecret: SANDBOX_DEFAULT_CALLBACK_SECRET,
      });
      assert.equal(sandboxRail.optionsSchema.parse({ baseUrl: 'http://127.0.0.1:8090' }).timeoutMs, 10_000);
      assert.equal(simulator.callbackSecret, SANDBOX_DEFAULT_CALLBACK_SECRET, 'a simulator started without a secret signs with the same default');
      const built = sandboxRail.create(sandboxRail.optionsSchema.parse({ baseUrl: simulator.url, callbackSecret: 'a-secret-of-our-own-0123' }));
      assert.ok(built instanceof SandboxRailAdapter);
      assert.equal(built.id, 'sandbox');
    });

    it('when options are invalid, then parsing and construction fail naming the option', () => {
      for (const [options, option] of [
        [{ baseUrl: 'not a url', timeoutMs: 1_000 }, 'baseUrl'],
        [{ baseUrl: 'http://127.0.0.1:1', timeoutMs: 0 }, 'timeoutMs'],
        [{ baseUrl: 'http://127.0.0.1:1', timeoutMs: '10s' }, 'timeoutMs'],
        [{ baseUrl: 'http://127.0.0.1:1', callbackSecret: 'short' }, 'callbackSecret'],
      ] as const) {
        const parsed = sandboxRail.optionsSchema.safeParse(options);
        assert.ok(!parsed.success && parsed.error.issues.some((issue) => issue.path[0] === option), `${JSON.stringify(options)} names ${option}`);
        assert.throws(() => new SandboxRailAdapter(options as never), new RegExp(option));
      }
    });

    it('when the adapter and the rail do not share the callback secret, then the rail’s callbacks are rejected', async () => {
      const stranger = new SandboxRailAdapter({ baseUrl: simulator.url, timeoutMs: 2_000, callbackSecret: 'not-the-rails-secret-0123' });
      try {
        const p = payment('0002', { callbackUrl: receiver.url });
        await adapter.initiateChunk([p]);
        const [callback] = await receiver.waitFor(p.railKey);

        await callbackRejection(stranger.parseCallback(callback!), /does not match/);
        assert.equal((await adapter.parseCallback(callback!)).length, 1);
      } finally {
        await stranger.close();
      }
    });
  });

  describe('registry', () => {
    it('when the configuration switches the sandbox on, then the registry builds it from RAIL_SANDBOX_* and routes payments to it', async () => {
      const registry = createRailRegistry({ RAILS: ['sandbox'], RAIL_ROUTES: undefined, RAIL_TIMEOUT_MS: 1_000, RAIL_FAILOVER_DISBURSEMENTS: false, railSettings: { RAIL_SANDBOX_BASE_URL: simulator.url } });
      try {
        assert.deepEqual(registry.ids(), ['sandbox']);
        assert.ok(registry.get('sandbox') instanceof SandboxRailAdapter);
        const benefit = payment('5555');
        assert.equal(registry.route({ ...benefit, currency: 'KES' }).id, 'sandbox');
        assert.equal(registry.route({ ...benefit, kind: 'fee', currency: 'EUR' }).id, 'sandbox');
      } finally {
        await registry.close();
      }
      assert.throws(
        () => createRailRegistry({ RAILS: ['sandbox'], RAIL_ROUTES: undefined, RAIL_TIMEOUT_MS: 1_000, RAIL_FAILOVER_DISBURSEMENTS: false, railSettings: { RAIL_SANDBOX_BASE_URL: simulator.url, RAIL_SANDBOX_CALLBACK_SECRET: 'short' } }),
        /RAIL_SANDBOX_CALLBACK_SECRET/,
      );
    });
  });
});

function wire(p: RailPayment) {
  return {
    key: p.railKey,
    kind: p.kind,
    amount_minor: p.amount.minor.toString(),
    currency: p.amount.currency,
    payer: p.payer,
    payee: p.payee,
    reference: p.reference,
    callback_url: p.callbackUrl,
  };
}

function postTransfers(simulator: SandboxSimulator, transfers: readonly unknown[]): Promise<Response> {
  return fetch(`${simulator.url}/v1/transfers`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ transfers }) });
}

function putJson(url: string, body: unknown): Promise<Response> {
  return fetch(url, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

function startSandboxPushReceiver(): Promise<PushReceiver> {
  return startPushReceiver({
    path: '/v1/rails/sandbox/callbacks',
    keysOf: ({ text }) => {
      try {
        const { key } = JSON.parse(text) as { key?: string };
        return key === undefined ? [] : [key];
      } catch {
        return [];
      }
    },
  });
}
