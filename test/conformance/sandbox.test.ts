import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { isRailError, RailError, type RailOutcome, type RailPayment } from '../../adapters/contract.ts';
import { createRailRegistry } from '../../adapters/registry.ts';
import { SandboxRailAdapter } from '../../adapters/sandbox/adapter.ts';
import { startSandboxSimulator, type SandboxSimulator } from '../../adapters/sandbox/simulator.ts';
import { describeRailAdapterContract } from './rail-adapter-contract.ts';

const PAYEE_SUFFIX = { completed: '5555', failed: '0000', pending: '0002' } as const;

function payment(payeeSuffix: string, overrides: Partial<RailPayment> = {}): RailPayment {
  return {
    railKey: `k-${randomUUID()}`,
    kind: 'benefit',
    amount: { minor: 12_550n, currency: 'KES' },
    payer: { type: 'bank_account', value: 'TREASURY-001', institution: 'CBK' },
    payee: { type: 'msisdn', value: `25471234${payeeSuffix}` },
    reference: 'Child benefit March',
    ...overrides,
  };
}

function outcomeOf(outcomes: ReadonlyMap<string, RailOutcome | RailError>, p: RailPayment): RailOutcome {
  const outcome = outcomes.get(p.railKey);
  assert.ok(outcome && !isRailError(outcome), `expected an outcome for ${p.railKey}, got ${String(outcome)}`);
  return outcome;
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  assert.fail('expected a rejection');
}

async function railErrorFrom(promise: Promise<unknown>): Promise<RailError> {
  const error = await rejection(promise);
  assert.ok(error instanceof RailError, `expected a RailError, got ${String(error)}`);
  return error;
}

describeRailAdapterContract('sandbox', async () => {
  const simulator = await startSandboxSimulator({ settleDelayMs: 100 });
  const adapter = new SandboxRailAdapter({ baseUrl: simulator.url, timeoutMs: 2_000 });
  return {
    adapter,
    paymentFor: (outcome) => payment(PAYEE_SUFFIX[outcome]),
    async teardown() {
      await adapter.close();
      await simulator.close();
    },
  };
});

describe('sandbox rail', function () {
  this.timeout(5_000);
  let simulator: SandboxSimulator;
  let adapter: SandboxRailAdapter;

  beforeEach(async () => {
    simulator = await startSandboxSimulator({ settleDelayMs: 100 });
    adapter = new SandboxRailAdapter({ baseUrl: simulator.url, timeoutMs: 2_000 });
  });
  afterEach(async () => {
    await adapter.close();
    await simulator.close();
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

      await new Promise((resolve) => setTimeout(resolve, 150));
      assert.equal((await adapter.getStatus(slow.railKey)).status, 'completed');
      assert.equal(outcomeOf(await adapter.initiateChunk([slow]), slow).status, 'completed', 'a repeat answers the current state');
      assert.equal(simulator.executions(slow.railKey), 1);
    });

    it('when the body is malformed, then the simulator answers 400 problem JSON and executes nothing', async () => {
      const notJson = await fetch(`${simulator.url}/v1/transfers`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"transfers": [' });
      assert.equal(notJson.status, 400);
      assert.match(notJson.headers.get('content-type') ?? '', /^application\/problem\+json/);

      const badAmount = await fetch(`${simulator.url}/v1/transfers`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ transfers: [{ ...wire(payment('5555')), amount_minor: '12.50' }] }),
      });
      assert.equal(badAmount.status, 400);
      const problem = (await badAmount.json()) as { code: string; errors: { field: string }[] };
      assert.equal(problem.code, 'validation_failed');
      assert.deepEqual(problem.errors.map((e) => e.field), ['transfers.0.amount_minor']);

      const tooMany = Array.from({ length: 2001 }, () => wire(payment('5555')));
      const tooManyResponse = await fetch(`${simulator.url}/v1/transfers`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ transfers: tooMany }) });
      assert.equal(tooManyResponse.status, 400);
      assert.equal(simulator.executionCounts().size, 0);
    });

    it('when the behaviour and counts are driven over HTTP, then the control endpoints work', async () => {
      const p = payment('5555');
      const down = await fetch(`${simulator.url}/_sim/behaviour`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ mode: 'down' }) });
      assert.equal(down.status, 204);
      const refused = await fetch(`${simulator.url}/v1/transfers`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ transfers: [wire(p)] }) });
      assert.equal(refused.status, 503);
      assert.match(refused.headers.get('content-type') ?? '', /^application\/problem\+json/);

      const invalid = await fetch(`${simulator.url}/_sim/behaviour`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ mode: 'sideways' }) });
      assert.equal(invalid.status, 400);

      await fetch(`${simulator.url}/_sim/behaviour`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ mode: 'normal' }) });
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
      const held = fetch(`${simulator.url}/v1/transfers`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ transfers: [wire(p)] }) });
      const heldOutcome = held.then(
        () => 'answered',
        () => 'dropped',
      );
      while (simulator.requestCount(p.railKey) === 0) await new Promise((resolve) => setTimeout(resolve, 5));

      const closed = await Promise.race([simulator.close().then(() => 'closed'), new Promise((resolve) => setTimeout(resolve, 2_000, 'still open'))]);

      assert.equal(closed, 'closed');
      assert.equal(await heldOutcome, 'dropped');
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

    it('when options are invalid, then construction throws naming the option', () => {
      assert.throws(() => new SandboxRailAdapter({ baseUrl: 'not a url', timeoutMs: 1_000 }), /baseUrl/);
      assert.throws(() => new SandboxRailAdapter({ baseUrl: 'http://127.0.0.1:1', timeoutMs: 0 }), /timeoutMs/);
    });

    it('when the adapter is closed, then further calls are refused', async () => {
      await adapter.close();
      await assert.rejects(adapter.getStatus('k-anything'), /closed/);
    });
  });

  describe('registry', () => {
    it('when a payment needs a rail, then the registry chooses the sandbox; an unknown id is a clear error', async () => {
      const registry = createRailRegistry({ sandboxUrl: simulator.url, timeoutMs: 1_000 });
      try {
        assert.deepEqual(registry.ids(), ['sandbox']);
        assert.ok(registry.get('sandbox') instanceof SandboxRailAdapter);
        assert.throws(() => registry.get('swift'), /unknown rail "swift"/);
        const benefit = payment('5555');
        assert.equal(registry.choose({ ...benefit, currency: 'KES' }).id, 'sandbox');
        assert.equal(registry.choose({ ...benefit, kind: 'fee', currency: 'EUR' }).id, 'sandbox');
      } finally {
        await registry.close();
      }
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
  };
}
