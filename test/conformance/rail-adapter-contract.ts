import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { type RailAdapter, type RailCallbackRequest, type RailOutcome, type RailPayment, type RailStatus } from '../../adapters/contract.ts';
import { outcomeOf } from '../support/rail-assertions.ts';

export interface RailAdapterFixture {
  readonly adapter: RailAdapter;
  /**
   * A fresh payment (new railKey on every call) that the rail will answer with this outcome. Its callbackUrl
   * must reach the fixture when the rail pushes callbacks, so that validCallbackFor can capture them.
   */
  paymentFor(outcome: 'completed' | 'failed' | 'pending'): RailPayment;
  /**
   * Required when capabilities.callbacks: a callback as an attacker would send it, well-formed and about a
   * plausible payment, but not signed by the rail (a wrong secret, a made-up signature).
   */
  forgeCallback?(): RailCallbackRequest;
  /**
   * Required when capabilities.callbacks: the callback the rail pushes with the final outcome of `payment`,
   * which the test has already initiated (a `pending` one). Resolves once the rail has pushed it, exactly as
   * received (headers and raw body).
   */
  validCallbackFor?(payment: RailPayment): Promise<RailCallbackRequest>;
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
      for (const flag of ['bulk', 'callbacks', 'refunds', 'statements'] as const) assert.equal(typeof capabilities[flag], 'boolean', `capabilities.${flag}`);
      if (capabilities.refunds) assert.equal(typeof fixture.adapter.refund, 'function', 'capabilities.refunds needs refund()');
      if (capabilities.statements) assert.equal(typeof fixture.adapter.fetchStatement, 'function', 'capabilities.statements needs fetchStatement()');
      if (capabilities.callbacks) {
        assert.equal(typeof fixture.forgeCallback, 'function', 'a rail with callbacks needs a fixture with forgeCallback()');
        assert.equal(typeof fixture.validCallbackFor, 'function', 'a rail with callbacks needs a fixture with validCallbackFor()');
      }
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

    describe('callbacks (when capabilities.callbacks)', () => {
      beforeEach(function () {
        if (!fixture.adapter.capabilities.callbacks) this.skip();
      });

      it('when a callback is forged, then parseCallback rejects it with RailCallbackRejected', async () => {
        await assert.rejects(fixture.adapter.parseCallback(fixture.forgeCallback!()), isCallbackRejected);
      });

      it('when the rail pushes the final outcome of a payment, then parseCallback returns its rail key and that outcome', async () => {
        const payment = fixture.paymentFor('pending');
        assert.equal(outcomeOf(await fixture.adapter.initiateChunk([payment]), payment).status, 'pending');

        const notifications = await fixture.adapter.parseCallback(await fixture.validCallbackFor!(payment));

        const notification = notifications.find((n) => n.railKey === payment.railKey);
        assert.ok(notification, `no notification for ${payment.railKey} in ${JSON.stringify(notifications.map((n) => n.railKey))}`);
        assert.ok(notification.outcome.status === 'completed' || notification.outcome.status === 'failed', `a pushed final outcome, got ${notification.outcome.status}`);
        assert.deepEqual(notification.outcome, await fixture.adapter.getStatus(payment.railKey), 'the callback agrees with a status inquiry');
      });

      it('when a genuine callback is altered by one byte or stripped of its headers, then parseCallback rejects it', async () => {
        const payment = fixture.paymentFor('pending');
        await fixture.adapter.initiateChunk([payment]);
        const genuine = await fixture.validCallbackFor!(payment);
        assert.ok(genuine.rawBody.length > 2, 'a callback has a body');

        const altered = Buffer.from(genuine.rawBody);
        const middle = Math.floor(altered.length / 2);
        altered[middle] = altered[middle]! ^ 0x01;
        await assert.rejects(fixture.adapter.parseCallback({ headers: genuine.headers, rawBody: altered }), isCallbackRejected);
        await assert.rejects(fixture.adapter.parseCallback({ headers: {}, rawBody: genuine.rawBody }), isCallbackRejected);
      });
    });

    describe('refunds (when capabilities.refunds)', () => {
      beforeEach(function () {
        if (!fixture.adapter.capabilities.refunds) this.skip();
      });

      it('when a completed payment is refunded, then the refund is executed once per refund key and no further than the amount', async () => {
        const payment = fixture.paymentFor('completed');
        assert.equal(outcomeOf(await fixture.adapter.initiateChunk([payment]), payment).status, 'completed');
        const refundKey = freshKey('R');

        const first = await fixture.adapter.refund!(payment.railKey, payment.amount, refundKey);
        const repeated = await fixture.adapter.refund!(payment.railKey, payment.amount, refundKey);

        assert.equal(first.status, 'completed');
        assert.ok(railReferenceOf(first), 'a completed refund carries the rail reference');
        assert.deepEqual(repeated, first, 'the same refund key answers the first refund');
        const beyond = await fixture.adapter.refund!(payment.railKey, payment.amount, freshKey('R')).catch((error: unknown) => error);
        assert.ok(beyond instanceof Error || (beyond as RailOutcome).status === 'failed', `a second full refund must not go through: ${JSON.stringify(beyond)}`);
      });
    });

    describe('statements (when capabilities.statements)', () => {
      beforeEach(function () {
        if (!fixture.adapter.capabilities.statements) this.skip();
      });

      it('when a payment was executed, then the statement around today lists it with its rail key, reference and amount', async () => {
        const payment = fixture.paymentFor('completed');
        const outcome = outcomeOf(await fixture.adapter.initiateChunk([payment]), payment);
        assert.equal(outcome.status, 'completed');
        const now = Date.now();

        const entries = await fixture.adapter.fetchStatement!({ from: isoDate(now - DAY_MS), to: isoDate(now + DAY_MS) });

        const own = entries.find((e) => e.railKey === payment.railKey);
        const inBatch = entries.find((e) => e.batchRailKeys?.includes(payment.railKey));
        assert.ok(own ?? inBatch, `the statement does not list ${payment.railKey}`);
        const entry = (own ?? inBatch)!;
        assert.equal(entry.direction, payment.kind === 'benefit' ? 'debit' : 'credit');
        assert.equal(entry.reversal, false);
        assert.match(entry.bookingDate, /^\d{4}-\d{2}-\d{2}$/);
        assert.match(entry.valueDate, /^\d{4}-\d{2}-\d{2}$/);
        if (own) {
          assert.deepEqual(own.amount, payment.amount);
          assert.equal(own.railReference, railReferenceOf(outcome));
        } else {
          assert.equal(entry.amount.currency, payment.amount.currency);
        }
      });
    });
  });
}

const DAY_MS = 86_400_000;
const isoDate = (epochMs: number) => new Date(epochMs).toISOString().slice(0, 10);

/** A key the contract allows: at most 35 characters of [A-Za-z0-9]. */
export function freshKey(prefix = 'K'): string {
  return `${prefix}${randomUUID().replaceAll('-', '')}`.slice(0, 35);
}

function isCallbackRejected(error: unknown): boolean {
  assert.ok(error instanceof Error && error.name === 'RailCallbackRejected', `expected RailCallbackRejected, got ${String(error)}`);
  assert.match(error.message, /\S/);
  return true;
}

function railReferenceOf(status: RailStatus): string | undefined {
  return 'railReference' in status ? status.railReference : undefined;
}
