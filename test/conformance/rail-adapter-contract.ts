import assert from 'node:assert/strict';
import { isRailError, type RailAdapter, type RailOutcome, type RailPayment, type RailStatus } from '../../adapters/contract.ts';

export interface RailAdapterFixture {
  readonly adapter: RailAdapter;
  /** A fresh payment (new railKey on every call) that the rail will answer with this outcome. */
  paymentFor(outcome: 'completed' | 'failed' | 'pending'): RailPayment;
  teardown(): Promise<void>;
}

export interface RailAdapterContractOptions {
  /** How long a pending payment may take to resolve via getStatus; default 8000 ms. */
  readonly pendingResolvesWithinMs?: number;
}

/** The behaviour every rail adapter must show, run against the rail's simulator. */
export function describeRailAdapterContract(
  name: string,
  setup: () => Promise<RailAdapterFixture>,
  options: RailAdapterContractOptions = {},
): void {
  const pendingWithinMs = options.pendingResolvesWithinMs ?? 8_000;

  describe(`rail adapter contract: ${name}`, function () {
    this.timeout(pendingWithinMs + 5_000);
    let fixture: RailAdapterFixture;

    beforeEach(async () => {
      fixture = await setup();
    });
    afterEach(async () => {
      await fixture.teardown();
    });

    it('when the adapter is built, then it declares an id and usable capabilities', () => {
      const { id, capabilities } = fixture.adapter;
      assert.match(id, /^[a-z][a-z0-9_-]*$/);
      assert.ok(capabilities.directions.length > 0);
      assert.ok(capabilities.partyTypes.length > 0);
      assert.ok(capabilities.currencies.length > 0);
      assert.ok(Number.isInteger(capabilities.maxChunkSize) && capabilities.maxChunkSize > 0);
    });

    it('when a chunk is initiated, then every key gets exactly one outcome of its own', async () => {
      const payments = [fixture.paymentFor('completed'), fixture.paymentFor('failed'), fixture.paymentFor('pending'), fixture.paymentFor('completed')];
      assert.equal(new Set(payments.map((p) => p.railKey)).size, payments.length, 'paymentFor must return fresh keys');

      const outcomes = await fixture.adapter.initiateChunk(payments);

      assert.deepEqual([...outcomes.keys()].sort(), payments.map((p) => p.railKey).sort());
      assert.equal(outcomeOf(outcomes, payments[0]!).status, 'completed');
      assert.equal(outcomeOf(outcomes, payments[1]!).status, 'failed');
      assert.notEqual(outcomeOf(outcomes, payments[2]!).status, 'failed');
      assert.equal(outcomeOf(outcomes, payments[3]!).status, 'completed');
    });

    it('when an empty chunk is initiated, then no outcome comes back', async () => {
      const outcomes = await fixture.adapter.initiateChunk([]);
      assert.equal(outcomes.size, 0);
    });

    it('when the same key is sent again, then the rail answers the first execution instead of executing twice', async () => {
      const payment = fixture.paymentFor('completed');
      const first = outcomeOf(await fixture.adapter.initiateChunk([payment]), payment);
      const second = outcomeOf(await fixture.adapter.initiateChunk([payment]), payment);

      assert.equal(first.status, 'completed');
      assert.equal(second.status, 'completed');
      assert.ok(first.railReference, 'a completed outcome carries the rail reference');
      assert.equal(second.railReference, first.railReference);
    });

    it('when the status of a key never sent is asked, then it is not_found', async () => {
      const payment = fixture.paymentFor('completed');
      assert.deepEqual(await fixture.adapter.getStatus(payment.railKey), { status: 'not_found' });
    });

    it('when a payment completed, then getStatus says completed with the same rail reference', async () => {
      const payment = fixture.paymentFor('completed');
      const outcome = outcomeOf(await fixture.adapter.initiateChunk([payment]), payment);
      assert.equal(outcome.status, 'completed');

      const status = await fixture.adapter.getStatus(payment.railKey);
      assert.equal(status.status, 'completed');
      assert.equal(railReferenceOf(status), railReferenceOf(outcome));
    });

    it('when the rail declines a payment, then the outcome carries a reason code and getStatus agrees', async () => {
      const payment = fixture.paymentFor('failed');
      const outcome = outcomeOf(await fixture.adapter.initiateChunk([payment]), payment);

      assert.equal(outcome.status, 'failed');
      if (outcome.status !== 'failed') return;
      assert.match(outcome.reasonCode, /\S/);
      assert.match(outcome.reason, /\S/);
      const status = await fixture.adapter.getStatus(payment.railKey);
      assert.equal(status.status, 'failed');
      if (status.status === 'failed') assert.equal(status.reasonCode, outcome.reasonCode);
    });

    it('when a payment is pending, then getStatus eventually resolves it', async () => {
      const payment = fixture.paymentFor('pending');
      const outcome = outcomeOf(await fixture.adapter.initiateChunk([payment]), payment);
      assert.equal(outcome.status, 'pending');

      const deadline = Date.now() + pendingWithinMs;
      let status: RailStatus = await fixture.adapter.getStatus(payment.railKey);
      assert.notEqual(status.status, 'not_found', 'a pending payment was executed, so the rail must know it');
      while (status.status === 'pending' && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        status = await fixture.adapter.getStatus(payment.railKey);
      }
      assert.ok(status.status === 'completed' || status.status === 'failed', `still ${status.status} after ${pendingWithinMs} ms`);
    });
  });
}

function outcomeOf(outcomes: ReadonlyMap<string, RailOutcome | Error>, payment: RailPayment): RailOutcome {
  const outcome = outcomes.get(payment.railKey);
  assert.ok(outcome, `no outcome for ${payment.railKey}`);
  if (outcome instanceof Error || isRailError(outcome)) assert.fail(`${payment.railKey} failed with ${outcome.message}`);
  return outcome;
}

function railReferenceOf(status: RailStatus): string | undefined {
  return 'railReference' in status ? status.railReference : undefined;
}
