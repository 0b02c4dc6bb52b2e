import assert from 'node:assert/strict';
import { randomInt, randomUUID } from 'node:crypto';
import { type RailCallbackRequest, type RailPayment } from '../../adapters/contract.ts';
import { signCallback } from '../../adapters/gsma-mobile-money/callback-signature.ts';
import { GsmaMobileMoneyAdapter, gsmaMobileMoneyRail, type GsmaAdapterOptions } from '../../adapters/gsma-mobile-money/index.ts';
import { startGsmaSimulator, type GsmaSimulator, type GsmaSimulatorOptions } from '../../adapters/gsma-mobile-money/simulator.ts';
import { correlationIdFor } from '../../adapters/gsma-mobile-money/wire.ts';
import { describeRailAdapterContract, freshKey } from './rail-adapter-contract.ts';
import { startPushReceiver, type PushReceiver } from '../support/push-receiver.ts';
import { outcomeOf, railErrorFrom } from '../support/rail-assertions.ts';

// ---------------------------------------------------------------- helpers

function startGsmaPushReceiver(): Promise<PushReceiver> {
  return startPushReceiver({ path: '/v1/rails/gsma-mobile-money/callbacks', keysOf: ({ headers }) => (typeof headers['x-correlationid'] === 'string' ? [headers['x-correlationid']] : []) });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const hexKey = () => randomUUID().replaceAll('-', '');
const msisdn = (suffix: string) => `+2547${String(randomInt(0, 10_000)).padStart(4, '0')}${suffix}`;

function benefit(payeeSuffix: string, callbackUrl: string, overrides: Partial<RailPayment> = {}): RailPayment {
  return {
    railKey: hexKey(),
    kind: 'benefit',
    amount: { minor: 12_550n, currency: 'KES' },
    payer: { type: 'bank_account', value: 'TREASURY-001' },
    payee: { type: 'msisdn', value: msisdn(payeeSuffix) },
    reference: 'Child benefit March',
    callbackUrl,
    ...overrides,
  };
}

function fee(payerSuffix: string, callbackUrl: string, overrides: Partial<RailPayment> = {}): RailPayment {
  return {
    railKey: hexKey(),
    kind: 'fee',
    amount: { minor: 2_500n, currency: 'KES' },
    payer: { type: 'msisdn', value: msisdn(payerSuffix) },
    payee: { type: 'functional_id', value: 'GOV-FEES' },
    reference: 'Passport fee',
    callbackUrl,
    ...overrides,
  };
}

function optionsFor(simulator: GsmaSimulator, overrides: Partial<GsmaAdapterOptions> = {}): GsmaAdapterOptions {
  return {
    baseUrl: simulator.url,
    timeoutMs: 2_000,
    clientId: simulator.clientId,
    clientSecret: simulator.clientSecret,
    callbackSecret: simulator.callbackSecret,
    disbursementAccount: simulator.disbursementAccount,
    collectionAccount: simulator.collectionAccount,
    currencies: ['KES'],
    ...overrides,
  };
}

async function settled(adapter: GsmaMobileMoneyAdapter, railKey: string, withinMs = 3_000) {
  const deadline = Date.now() + withinMs;
  let status = await adapter.getStatus(railKey);
  while (status.status === 'pending' && Date.now() < deadline) {
    await sleep(20);
    status = await adapter.getStatus(railKey);
  }
  return status;
}

/** A callback signed as the operator would, for tests that build their own. */
function signed(secret: string, correlationId: string, body: unknown, timestampSeconds = Math.floor(Date.now() / 1000)): RailCallbackRequest {
  const rawBody = Buffer.from(JSON.stringify(body));
  return {
    headers: { 'content-type': 'application/json', 'x-correlationid': correlationId, 'x-callback-signature': signCallback(secret, correlationId, rawBody, timestampSeconds) },
    rawBody,
  };
}

// ---------------------------------------------------------------- the shared contract

describeRailAdapterContract('gsma-mobile-money', async () => {
  const receiver = await startGsmaPushReceiver();
  const simulator = await startGsmaSimulator({ completionDelayMs: 10, autoApproveAfterMs: 150 });
  const adapter = gsmaMobileMoneyRail.create(gsmaMobileMoneyRail.optionsSchema.parse(optionsFor(simulator)));
  // Keys the contract allows but that are not 32 hex digits, so the name-based correlation ids are exercised too.
  const withContractKey = (payment: RailPayment): RailPayment => ({ ...payment, railKey: freshKey('K') });
  return {
    adapter,
    paymentFor: (outcome) =>
      withContractKey(outcome === 'pending' ? fee('5555', receiver.url) : benefit(outcome === 'completed' ? '5555' : '0000', receiver.url)),
    forgeCallback: () => {
      const railKey = freshKey('K');
      const body = {
        transactionReference: 'MM0000000001',
        transactionStatus: 'completed',
        type: 'disbursement',
        amount: '125.5',
        currency: 'KES',
        requestingOrganisationTransactionReference: railKey,
      };
      return signed('not-the-operators-callback-secret', correlationIdFor(railKey), body);
    },
    validCallbackFor: async (payment) => (await receiver.waitFor(correlationIdFor(payment.railKey)))[0]!,
    async teardown() {
      await adapter.close();
      await simulator.close();
      await receiver.close();
    },
  };
});

// ---------------------------------------------------------------- GSMA specifics

describe('gsma-mobile-money rail', function () {
  this.timeout(10_000);
  let simulator: GsmaSimulator;
  let receiver: PushReceiver;
  let adapter: GsmaMobileMoneyAdapter;
  const extra: { close(): Promise<void> }[] = [];

  async function start(simulatorOptions: GsmaSimulatorOptions = {}, adapterOptions: Partial<GsmaAdapterOptions> = {}) {
    simulator = await startGsmaSimulator({ completionDelayMs: 10, ...simulatorOptions });
    adapter = new GsmaMobileMoneyAdapter(optionsFor(simulator, adapterOptions));
  }

  beforeEach(async () => {
    receiver = await startGsmaPushReceiver();
  });
  afterEach(async () => {
    await adapter?.close();
    await simulator?.close();
    await receiver.close();
    for (const resource of extra.splice(0)) await resource.close();
  });

  describe('auth', () => {
    it('when several calls are made, then one token is fetched; when it expires, then a new one is fetched', async () => {
      await start({ tokenTtlSeconds: 1 });

      await Promise.all([adapter.getStatus(hexKey()), adapter.getStatus(hexKey()), adapter.getStatus(hexKey())]);
      assert.equal(simulator.stats().tokensIssued, 1);
      await sleep(1_050);
      assert.deepEqual(await adapter.getStatus(hexKey()), { status: 'not_found' });

      assert.equal(simulator.stats().tokensIssued, 2);
    });

    it('when the operator revokes the token, then the adapter fetches a new one once and the call succeeds', async () => {
      await start();
      await adapter.getStatus(hexKey());
      simulator.revokeTokens();

      const p = benefit('5555', receiver.url);
      assert.equal(outcomeOf(await adapter.initiateChunk([p]), p).status, 'completed');

      assert.equal(simulator.stats().tokensIssued, 2);
      assert.equal(simulator.executions(p.railKey), 1);
    });

    it('when the client credentials are wrong, then calls fail unavailable and nothing is executed', async () => {
      await start({}, {});
      const wrong = new GsmaMobileMoneyAdapter(optionsFor(simulator, { clientSecret: 'wrong' }));
      extra.push(wrong);
      const p = benefit('5555', receiver.url);

      const error = await railErrorFrom(wrong.initiateChunk([p]));

      assert.equal(error.decision, 'unavailable');
      assert.equal(error.railCode, 'oauth_invalid_client');
      assert.equal(simulator.executions(p.railKey), 0);
    });
  });

  describe('disbursements', () => {
    it('when a disbursement is accepted, then the signed callback carries its completion', async () => {
      await start({}, { awaitResultMs: 0 });
      const p = benefit('5555', receiver.url);
      const before = simulator.balanceOf({ key: 'msisdn', value: p.payee.value }, 'KES')!;

      const outcome = outcomeOf(await adapter.initiateChunk([p]), p);
      assert.equal(outcome.status, 'pending');
      const [callback] = await receiver.waitFor(correlationIdFor(p.railKey));
      const notifications = await adapter.parseCallback(callback!);

      assert.equal(notifications.length, 1);
      assert.equal(notifications[0]!.railKey, p.railKey);
      assert.equal(notifications[0]!.outcome.status, 'completed');
      assert.deepEqual(notifications[0]!.outcome, await adapter.getStatus(p.railKey));
      assert.equal(simulator.balanceOf({ key: 'msisdn', value: p.payee.value }, 'KES'), before + 12_550n);
    });

    it('when callbacks never come, then polling resolves the disbursement', async () => {
      await start({ callbacks: 'never' }, { awaitResultMs: 0 });
      const p = benefit('5555', receiver.url);

      assert.equal(outcomeOf(await adapter.initiateChunk([p]), p).status, 'pending');
      const status = await settled(adapter, p.railKey);

      assert.equal(status.status, 'completed');
      assert.equal(simulator.stats().callbacksSent, 0);
      assert.equal(receiver.pushes.length, 0);
    });

    it('when another process asks about a key, then getStatus finds it through /responses by correlation id', async () => {
      await start();
      const p = benefit('5555', receiver.url);
      const outcome = outcomeOf(await adapter.initiateChunk([p]), p);
      const stranger = new GsmaMobileMoneyAdapter(optionsFor(simulator));
      extra.push(stranger);

      assert.deepEqual(await stranger.getStatus(p.railKey), outcome);
      assert.deepEqual(await stranger.getStatus(hexKey()), { status: 'not_found' });
    });

    it('when wallets are unknown, suspended or full, or the government account is short, then the declines carry ISO reasons', async () => {
      await start({ disbursementBalanceMinor: 20_000n });
      const unknown = benefit('0000', receiver.url);
      const suspended = benefit('0001', receiver.url);
      const full = benefit('0003', receiver.url);
      const first = benefit('5555', receiver.url);
      const tooMuch = benefit('5555', receiver.url); // 125.50 + 125.50 > 200.00

      const outcomes = await adapter.initiateChunk([unknown, suspended, full, first]);
      const short = outcomeOf(await adapter.initiateChunk([tooMuch]), tooMuch);

      const reasons = [unknown, suspended, full].map((p) => outcomeOf(outcomes, p)).map((o) => (o.status === 'failed' ? o.reasonCode : o.status));
      assert.deepEqual(reasons, ['AC01', 'AC06', 'AM14']);
      assert.equal(outcomeOf(outcomes, first).status, 'completed');
      assert.ok(short.status === 'failed');
      assert.equal(short.reasonCode, 'AM04');
      assert.match(short.reason, /businessRule\/insufficientFunds/);
    });
  });

  describe('merchant payments', () => {
    it('when a fee is initiated, then it waits for the payer with payer_approval; when approved, then it completes', async () => {
      await start();
      const p = fee('5555', receiver.url);
      const fees = () => simulator.balanceOf(simulator.collectionAccount, 'KES');

      const outcome = outcomeOf(await adapter.initiateChunk([p]), p);
      assert.equal(outcome.status, 'pending');
      assert.equal(outcome.status === 'pending' && outcome.nextAction?.type, 'payer_approval');
      await sleep(50);
      const waiting = await adapter.getStatus(p.railKey);
      assert.equal(waiting.status, 'pending');
      assert.equal(waiting.status === 'pending' && waiting.nextAction?.type, 'payer_approval');
      assert.equal(fees(), 0n);

      assert.ok(simulator.approve(p.railKey));
      const status = await settled(adapter, p.railKey);
      const [callback] = await receiver.waitFor(correlationIdFor(p.railKey));

      assert.equal(status.status, 'completed');
      assert.deepEqual(await adapter.parseCallback(callback!), [{ railKey: p.railKey, outcome: status }]);
      assert.equal(fees(), 2_500n);
      assert.equal(simulator.executions(p.railKey), 1);
    });

    it('when the payer rejects, then the fee fails MS02 and the error callback names the payment', async () => {
      await start();
      const p = { ...fee('5555', receiver.url), railKey: freshKey('F') }; // a name-based correlation id

      await adapter.initiateChunk([p]);
      await sleep(30);
      assert.ok(simulator.reject(correlationIdFor(p.railKey)));
      const status = await settled(adapter, p.railKey);
      const [callback] = await receiver.waitFor(correlationIdFor(p.railKey));

      assert.ok(status.status === 'failed');
      assert.equal(status.reasonCode, 'MS02');
      assert.match(status.reason, /authorisation\/requestDeclined/);
      const fresh = new GsmaMobileMoneyAdapter(optionsFor(simulator)); // one that never saw the key
      extra.push(fresh);
      assert.deepEqual(await fresh.parseCallback(callback!), [{ railKey: p.railKey, outcome: status }]);
    });

    it('when the payer has no money, then the approved fee fails AM04', async () => {
      await start({ autoApproveAfterMs: 20 });
      const p = fee('0002', receiver.url);

      await adapter.initiateChunk([p]);
      const status = await settled(adapter, p.railKey);

      assert.ok(status.status === 'failed');
      assert.equal(status.reasonCode, 'AM04');
    });
  });

  describe('batches', () => {
    it('when 100 benefits are initiated, then one batch call carries them and all complete; the batch callback agrees', async () => {
      await start();
      const payments = Array.from({ length: 100 }, () => benefit('5555', receiver.url));

      const outcomes = await adapter.initiateChunk(payments);

      assert.equal(simulator.stats().batchRequests, 1);
      assert.equal(simulator.stats().transactionRequests, 0);
      assert.ok(payments.every((p) => outcomeOf(outcomes, p).status === 'completed'));
      assert.equal(new Set(payments.map((p) => (outcomeOf(outcomes, p) as { railReference: string }).railReference)).size, 100);
      const [callback] = await receiver.waitFor(await callbackIdOf(receiver, 'batchId'));
      const notifications = await adapter.parseCallback(callback!);
      assert.equal(notifications.length, 100);
      for (const n of notifications) assert.deepEqual(n.outcome, outcomes.get(n.railKey));
    });

    it('when a batch mixes good and bad wallets, then each item gets its own outcome', async () => {
      await start();
      const good = benefit('5555', receiver.url);
      const unknown = benefit('0000', receiver.url);

      const outcomes = await adapter.initiateChunk([good, unknown]);

      assert.equal(outcomeOf(outcomes, good).status, 'completed');
      const declined = outcomeOf(outcomes, unknown);
      assert.ok(declined.status === 'failed');
      assert.equal(declined.reasonCode, 'AC01');
      assert.deepEqual(await adapter.getStatus(unknown.railKey), declined);
    });

    it('when a chunk exceeds maxChunkSize, then it goes out in several batches and a resent chunk executes nothing again', async () => {
      await start({}, { maxChunkSize: 40 });
      const payments = Array.from({ length: 100 }, () => benefit('5555', receiver.url));

      const first = await adapter.initiateChunk(payments);
      const again = await adapter.initiateChunk(payments);

      assert.equal(simulator.stats().batchRequests, 6);
      for (const p of payments) {
        assert.deepEqual(outcomeOf(again, p), outcomeOf(first, p));
        assert.equal(simulator.executions(p.railKey), 1);
        assert.equal(simulator.requestCount(p.railKey), 2);
      }
    });
  });

  describe('idempotency and faults', () => {
    it('when the same key is sent twice, then the operator executes it once', async () => {
      await start();
      const p = benefit('5555', receiver.url);

      const first = outcomeOf(await adapter.initiateChunk([p]), p);
      const second = outcomeOf(await adapter.initiateChunk([p]), p);

      assert.deepEqual(second, first);
      assert.equal(simulator.executions(p.railKey), 1);
      assert.equal(simulator.requestCount(p.railKey), 2);
    });

    it('when a key is reused with a different body, then the request is declined DU05 and the first execution stands', async () => {
      await start();
      const p = benefit('5555', receiver.url);
      const first = outcomeOf(await adapter.initiateChunk([p]), p);

      const changed = { ...p, amount: { minor: 99_900n, currency: 'KES' } };
      const second = outcomeOf(await adapter.initiateChunk([changed]), changed);

      assert.ok(second.status === 'failed');
      assert.equal(second.reasonCode, 'DU05');
      assert.match(second.reason, /businessRule\/duplicateRequest/);
      assert.equal(simulator.executions(p.railKey), 1);
      assert.deepEqual(await adapter.getStatus(p.railKey), first);
    });

    it('when the operator executes but answers too late, then the outcome is unknown and getStatus resolves it', async () => {
      await start({}, { timeoutMs: 300 });
      await adapter.getStatus(hexKey()); // a token first: the token endpoint is not held
      simulator.setBehaviour({ mode: 'timeout' });
      const p = benefit('5555', receiver.url);

      const error = await railErrorFrom(adapter.initiateChunk([p]));

      assert.equal(error.decision, 'unknown');
      assert.equal(simulator.executions(p.railKey), 1);
      assert.equal((await settled(adapter, p.railKey)).status, 'completed');
    });

    it('when the operator is down, then calls fail unavailable and nothing runs; when it is back, the same key goes through once', async () => {
      await start();
      const p = benefit('5555', receiver.url);
      simulator.setBehaviour({ mode: 'down' });

      assert.equal((await railErrorFrom(adapter.initiateChunk([p]))).decision, 'unavailable');
      assert.equal((await railErrorFrom(adapter.getStatus(p.railKey))).decision, 'unavailable');
      assert.equal(simulator.executions(p.railKey), 0);

      simulator.setBehaviour({ mode: 'normal' });
      assert.deepEqual(await adapter.getStatus(p.railKey), { status: 'not_found' });
      assert.equal(outcomeOf(await adapter.initiateChunk([p]), p).status, 'completed');
      assert.equal(simulator.executions(p.railKey), 1);
    });

    it('when the simulator is gone, then calls fail unavailable', async () => {
      await start();
      await adapter.getStatus(hexKey());
      await simulator.close();

      assert.equal((await railErrorFrom(adapter.initiateChunk([benefit('5555', receiver.url)]))).decision, 'unavailable');
    });
  });

  describe('callbacks', () => {
    it('when a callback arrives twice, then both parse to the same notification', async () => {
      await start({ callbacks: 'duplicate' }, { awaitResultMs: 0 });
      const p = benefit('5555', receiver.url);

      await adapter.initiateChunk([p]);
      const [first, second] = await receiver.waitFor(correlationIdFor(p.railKey), 2);

      assert.deepEqual(first!.rawBody, second!.rawBody);
      const parsed = [await adapter.parseCallback(first!), await adapter.parseCallback(second!)];
      assert.deepEqual(parsed[0], parsed[1]);
      assert.deepEqual(parsed[0], [{ railKey: p.railKey, outcome: await adapter.getStatus(p.railKey) }]);
    });

    it('when the callback arrives before the 202 answer, then it parses like any other and agrees with the answer', async () => {
      await start({ callbacks: 'early' }, { awaitResultMs: 0 });
      const p = benefit('5555', receiver.url);

      const outcome = outcomeOf(await adapter.initiateChunk([p]), p);
      const already = receiver.pushes.filter((r) => r.headers['x-correlationid'] === correlationIdFor(p.railKey));

      assert.equal(already.length, 1, 'the callback was delivered before the answer');
      assert.equal(outcome.status, 'completed');
      assert.deepEqual(await adapter.parseCallback(already[0]!), [{ railKey: p.railKey, outcome }]);
    });

    it('when a callback is forged, stale, re-addressed or unreadable, then it is rejected', async () => {
      await start();
      const p = benefit('5555', receiver.url);
      const other = benefit('5555', receiver.url);
      const outcome = outcomeOf(await adapter.initiateChunk([p]), p);
      const body = { errorCategory: 'businessRule', errorCode: 'insufficientFunds', errordescription: 'no money' };
      const secret = simulator.callbackSecret;
      const genuine = signed(secret, correlationIdFor(p.railKey), body);

      const attempts: [string, RailCallbackRequest][] = [
        ['wrong secret', signed('an-attacker-guessed-secret', correlationIdFor(p.railKey), body)],
        ['stale', signed(secret, correlationIdFor(p.railKey), body, Math.floor(Date.now() / 1000) - 3_600)],
        ['re-addressed', { headers: { ...genuine.headers, 'x-correlationid': correlationIdFor(other.railKey) }, rawBody: genuine.rawBody }],
        ['not JSON', { ...signed(secret, correlationIdFor(p.railKey), {}), rawBody: Buffer.from('{') }],
        ['unknown shape', signed(secret, correlationIdFor(p.railKey), { hello: 'world' })],
        ['no signature', { headers: { 'x-correlationid': correlationIdFor(p.railKey) }, rawBody: genuine.rawBody }],
      ];
      for (const [what, request] of attempts) {
        await assert.rejects(adapter.parseCallback(request), (error: Error) => error.name === 'RailCallbackRejected', what);
      }
      assert.deepEqual(await adapter.getStatus(p.railKey), outcome, 'nothing changed');
    });
  });

  describe('names, refunds and statements', () => {
    it('when a name is looked up, then a known wallet answers its holder and an unknown one undefined', async () => {
      await start();

      assert.match((await adapter.lookupAccountName({ type: 'msisdn', value: '+254712345555' })) ?? '', /^[A-Z][a-z]+ [A-Z][a-z]+$/);
      assert.equal(await adapter.lookupAccountName({ type: 'msisdn', value: '+254712340000' }), undefined);
      assert.equal(await adapter.lookupAccountName({ type: 'iban', value: 'DE89370400440532013000' }), undefined);
    });

    it('when a benefit is partly reversed, then the money returns once and the statement shows both bookings', async () => {
      await start();
      const p = benefit('5555', receiver.url);
      const f = fee('5555', receiver.url);
      const completed = outcomeOf(await adapter.initiateChunk([p]), p);
      await adapter.initiateChunk([f]);
      simulator.approve(f.railKey);
      assert.equal((await settled(adapter, f.railKey)).status, 'completed');
      const wallet = () => simulator.balanceOf({ key: 'msisdn', value: p.payee.value }, 'KES')!;
      const before = wallet();
      const refundKey = hexKey();

      const refund = await adapter.refund(p.railKey, { minor: 5_000n, currency: 'KES' }, refundKey);
      const again = await adapter.refund(p.railKey, { minor: 5_000n, currency: 'KES' }, refundKey);
      const tooMuch = await adapter.refund(p.railKey, { minor: 10_000n, currency: 'KES' }, hexKey());

      assert.equal(refund.status, 'completed');
      assert.deepEqual(again, refund);
      assert.ok(tooMuch.status === 'failed');
      assert.equal(tooMuch.reasonCode, 'AM09');
      assert.equal(wallet(), before - 5_000n);
      assert.equal(simulator.executions(refundKey), 1);

      const today = new Date().toISOString().slice(0, 10);
      const entries = await adapter.fetchStatement({ from: today, to: today });
      const byKey = new Map(entries.map((e) => [e.railKey, e]));
      assert.deepEqual(byKey.get(p.railKey), {
        railKey: p.railKey,
        railReference: (completed as { railReference: string }).railReference,
        amount: { minor: 12_550n, currency: 'KES' },
        direction: 'debit',
        bookingDate: today,
        valueDate: today,
        counterparty: p.payee.value,
        reversal: false,
      });
      assert.equal(byKey.get(refundKey)?.direction, 'credit');
      assert.equal(byKey.get(refundKey)?.reversal, true);
      assert.deepEqual(byKey.get(refundKey)?.amount, { minor: 5_000n, currency: 'KES' });
      assert.equal(byKey.get(f.railKey)?.direction, 'credit');
      assert.equal(byKey.get(f.railKey)?.reversal, false);
    });

    it('when a payment is not completed, then refund refuses it', async () => {
      await start();
      const p = fee('5555', receiver.url);
      await adapter.initiateChunk([p]);

      await assert.rejects(adapter.refund(p.railKey, p.amount, hexKey()), /cannot refund .* pending/);
    });
  });

  describe('simulator', () => {
    const json = (method: string, body?: unknown) => ({ method, headers: { 'content-type': 'application/json' }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });

    it('when it is driven over HTTP, then behaviour, callback mode, approvals, counts and reset all work', async () => {
      await start();
      const p = fee('5555', receiver.url);

      assert.equal((await fetch(`${simulator.url}/_sim/behaviour`, json('PUT', { mode: 'down' }))).status, 204);
      assert.equal((await fetch(`${simulator.url}/heartbeat`)).status, 503);
      assert.equal((await fetch(`${simulator.url}/_sim/behaviour`, json('PUT', { mode: 'sideways' }))).status, 400);
      assert.equal((await fetch(`${simulator.url}/_sim/behaviour`, json('PUT', { mode: 'normal' }))).status, 204);
      assert.equal((await fetch(`${simulator.url}/_sim/callbacks`, json('PUT', { mode: 'never' }))).status, 204);

      await adapter.initiateChunk([p]);
      await adapter.initiateChunk([p]);
      await sleep(30);
      assert.equal((await fetch(`${simulator.url}/_sim/approve/${hexKey()}`, json('POST'))).status, 404);
      assert.equal((await fetch(`${simulator.url}/_sim/approve/${p.railKey}`, json('POST'))).status, 204);
      assert.equal((await settled(adapter, p.railKey)).status, 'completed');
      assert.equal((await fetch(`${simulator.url}/_sim/reject/${p.railKey}`, json('POST'))).status, 404, 'no longer waiting');
      const counts = await fetch(`${simulator.url}/_sim/executions/${p.railKey}`);
      assert.deepEqual(await counts.json(), { id: p.railKey, executions: 1, requests: 2 });
      assert.equal(receiver.pushes.length, 0, 'callbacks were off');

      assert.equal((await fetch(`${simulator.url}/_sim/reset`, json('POST'))).status, 204);
      assert.equal(simulator.executions(p.railKey), 0);
      assert.deepEqual(await adapter.getStatus(p.railKey), { status: 'not_found' }, 'a new token is fetched after the reset');
    });

    it('when a payer never approves, then the merchant payment fails once the approval expires', async () => {
      await start({ approvalExpiryMs: 60 });
      const p = fee('5555', receiver.url);

      await adapter.initiateChunk([p]);
      const status = await settled(adapter, p.railKey);

      assert.ok(status.status === 'failed');
      assert.equal(status.reasonCode, 'MS02');
      assert.match(status.reason, /did not approve in time/);
    });

    it('when a request has no token, a malformed body or no correlation id, then it is refused and nothing is executed', async () => {
      await start();
      const token = (await (await fetch(`${simulator.url}/oauth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'client_credentials', client_id: simulator.clientId, client_secret: simulator.clientSecret }),
      }).then((r) => r.json())) as { access_token: string }).access_token;
      const post = (headers: Record<string, string>, body: string) =>
        fetch(`${simulator.url}/transactions/type/disbursement`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
      const valid = { amount: '10', currency: 'KES', debitParty: [simulator.disbursementAccount], creditParty: [{ key: 'msisdn', value: '+254712345555' }] };
      const id = randomUUID();

      const noToken = await post({ 'x-correlationid': id }, JSON.stringify(valid));
      const notJson = await post({ authorization: `Bearer ${token}`, 'x-correlationid': id }, '{"amount":');
      const badAmount = await post({ authorization: `Bearer ${token}`, 'x-correlationid': id }, JSON.stringify({ ...valid, amount: '10.50' }));
      const noId = await post({ authorization: `Bearer ${token}` }, JSON.stringify(valid));

      assert.deepEqual(
        [noToken.status, notJson.status, badAmount.status, noId.status],
        [401, 400, 400, 400],
      );
      assert.deepEqual(((await noToken.json()) as { errorCode: string }).errorCode, 'clientAuthorisationError');
      assert.equal(((await badAmount.json()) as { errorCategory: string }).errorCategory, 'validation');
      assert.equal(((await noId.json()) as { errorCode: string }).errorCode, 'mandatoryValueNotSupplied');
      assert.equal(simulator.executions(id), 0);
      assert.equal(simulator.executionCounts().size, 0);
    });

    it('when close() is called while an answer is held, then it returns promptly', async () => {
      await start({ behaviour: { mode: 'timeout' } }, { timeoutMs: 30_000 });
      const pending = adapter.initiateChunk([benefit('5555', receiver.url)]).then(
        () => 'answered',
        () => 'dropped',
      );
      while (simulator.stats().transactionRequests === 0) await sleep(5);

      const closed = await Promise.race([simulator.close().then(() => 'closed'), sleep(2_000).then(() => 'still open')]);

      assert.equal(closed, 'closed');
      assert.equal(await pending, 'dropped');
    });
  });

  describe('options', () => {
    it('when options come from the environment as strings, then they are coerced; invalid ones name the option', () => {
      const parsed = gsmaMobileMoneyRail.optionsSchema.parse({
        baseUrl: 'https://mm.example.org/v1.2',
        timeoutMs: '2500',
        clientId: 'kassa',
        clientSecret: 's3cret',
        callbackSecret: 'a-callback-secret-of-length',
        disbursementAccount: 'walletid:GOV-1',
        collectionAccount: 'msisdn:+254700000001',
        currencies: 'KES, UGX',
        awaitResultMs: '0',
      });

      assert.equal(parsed.timeoutMs, 2_500);
      assert.equal(parsed.awaitResultMs, 0);
      assert.equal(parsed.maxChunkSize, 1_000);
      assert.deepEqual(parsed.currencies, ['KES', 'UGX']);
      assert.deepEqual(parsed.disbursementAccount, { key: 'walletid', value: 'GOV-1' });
      assert.deepEqual(parsed.collectionAccount, { key: 'msisdn', value: '+254700000001' });
      assert.equal(new GsmaMobileMoneyAdapter(parsed).capabilities.currencies.join(), 'KES,UGX');
      assert.throws(() => new GsmaMobileMoneyAdapter({ ...parsed, callbackSecret: 'short' }), /callbackSecret/);
      assert.throws(() => new GsmaMobileMoneyAdapter({ ...parsed, currencies: 'KES,XX' }), /currencies/);
      assert.throws(() => new GsmaMobileMoneyAdapter({ ...parsed, timeoutMs: 'soon' }), /timeoutMs/);
    });
  });
});

/** The X-CorrelationID of the first callback whose body has this property (a batch callback), once one arrived. */
async function callbackIdOf(receiver: PushReceiver, property: string, timeoutMs = 5_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = receiver.pushes.find((r) => property in (JSON.parse(r.rawBody.toString('utf8')) as object));
    if (found) return found.headers['x-correlationid'] as string;
    if (Date.now() > deadline) assert.fail(`no callback with ${property} within ${timeoutMs} ms`);
    await sleep(5);
  }
}
