import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { isRailError, RailCallbackRejected, RailError, type RailCallbackRequest, type RailPayment } from '../../adapters/contract.ts';
import { BankIso20022Adapter, bankIso20022Rail, signBankPush } from '../../adapters/bank-iso20022/index.ts';
import { parseCamt053 } from '../../adapters/bank-iso20022/camt.ts';
import { parseMt940 } from '../../adapters/bank-iso20022/mt940.ts';
import { parsePain001, type Pain001Message } from '../../adapters/bank-iso20022/pain001.ts';
import { BANK_SIMULATOR_TREASURY, startBankSimulator, type BankSimulator } from '../../adapters/bank-iso20022/simulator.ts';
import { ibanEndingWith } from '../fixtures/iso20022/support.ts';
import { describeRailAdapterContract, freshKey } from './rail-adapter-contract.ts';
import { startPushReceiver, type PushReceiver } from '../support/push-receiver.ts';
import { outcomeOf, rejection, railErrorFrom } from '../support/rail-assertions.ts';

const SECRET = 'bank-contract-fixture-secret-0123';
const SETTLE_MS = 100;
/** The simulator's account rules look at the creditor account's last four digits. */
const SUFFIX = { completed: '5555', failed: '0000', pending: '0002', insufficient: '0001', lateReject: '0003' } as const;

function payment(suffix: string, overrides: Partial<RailPayment> = {}): RailPayment {
  return {
    railKey: freshKey('B'),
    kind: 'benefit',
    amount: { minor: 12_550n, currency: 'EUR' },
    payer: { type: 'iban', value: BANK_SIMULATOR_TREASURY.iban },
    payee: { type: 'iban', value: ibanEndingWith(suffix), institution: 'COBADEFFXXX' },
    reference: 'Child benefit March – Zoë Ñandú Øre',
    callbackUrl: 'http://127.0.0.1:9/unused',
    ...overrides,
  };
}

function adapterFor(simulator: BankSimulator, options: Record<string, string> = {}): BankIso20022Adapter {
  const parsed = bankIso20022Rail.optionsSchema.parse({
    baseUrl: simulator.url,
    timeoutMs: '2000',
    debtorName: BANK_SIMULATOR_TREASURY.name,
    debtorIban: BANK_SIMULATOR_TREASURY.iban,
    debtorBic: BANK_SIMULATOR_TREASURY.bic,
    callbackSecret: simulator.callbackSecret,
    ...options,
  });
  return bankIso20022Rail.create(parsed) as BankIso20022Adapter;
}

const isoDay = (offsetDays = 0) => new Date(Date.now() + offsetDays * 86_400_000).toISOString().slice(0, 10);

function startBankPushReceiver(): Promise<PushReceiver> {
  return startPushReceiver({ path: '/v1/rails/bank-iso20022/callbacks', keysOf: ({ text }) => [...text.matchAll(/EndToEndId>([^<]+)</g)].map((match) => match[1]!) });
}

// ── the contract every adapter passes, with either kind of push ─────────────────────────────────────────

for (const notifyWith of ['pain.002', 'camt.054'] as const) {
  describeRailAdapterContract(`bank-iso20022 (pushes as ${notifyWith})`, async () => {
    const simulator = await startBankSimulator({ settleDelayMs: SETTLE_MS, callbackSecret: SECRET, notifyWith });
    const receiver = await startBankPushReceiver();
    const adapter = adapterFor(simulator);
    return {
      adapter,
      paymentFor: (outcome) => payment(SUFFIX[outcome], { callbackUrl: receiver.url }),
      forgeCallback() {
        const body = `<?xml version="1.0" encoding="UTF-8"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.002.001.11"><CstmrPmtStsRpt><GrpHdr><MsgId>R1</MsgId><CreDtTm>2024-03-15T09:00:00Z</CreDtTm></GrpHdr><OrgnlGrpInfAndSts><OrgnlMsgId>M1</OrgnlMsgId><OrgnlMsgNmId>pain.001.001.09</OrgnlMsgNmId></OrgnlGrpInfAndSts><OrgnlPmtInfAndSts><OrgnlPmtInfId>M1</OrgnlPmtInfId><TxInfAndSts><OrgnlEndToEndId>${freshKey('B')}</OrgnlEndToEndId><TxSts>ACSC</TxSts><AcctSvcrRef>T9999999999</AcctSvcrRef></TxInfAndSts></OrgnlPmtInfAndSts></CstmrPmtStsRpt></Document>`;
        return { headers: { 'x-bank-signature': signBankPush('an-attacker-guessing-the-secret', body) }, rawBody: Buffer.from(body) };
      },
      async validCallbackFor(p) {
        const [push] = await receiver.waitFor(p.railKey);
        return { headers: push!.headers, rawBody: push!.rawBody };
      },
      async teardown() {
        await adapter.close();
        await simulator.close();
        await receiver.close();
      },
    };
  });
}

// ── what is particular to the bank ───────────────────────────────────────────────────────────────────

describe('bank-iso20022 rail', function () {
  this.timeout(15_000);
  let simulator: BankSimulator;
  let receiver: PushReceiver;
  let adapter: BankIso20022Adapter;

  beforeEach(async () => {
    simulator = await startBankSimulator({ settleDelayMs: SETTLE_MS, callbackSecret: SECRET });
    receiver = await startBankPushReceiver();
    adapter = adapterFor(simulator);
  });
  afterEach(async () => {
    await adapter.close();
    await simulator.close();
    await receiver.close();
  });

  /** Runs `work` while recording the pain.001 bodies the adapter POSTs. */
  async function capturingPain001<T>(work: () => Promise<T>): Promise<{ result: T; messages: Pain001Message[]; headers: Headers[] }> {
    const originalFetch = globalThis.fetch;
    const messages: Pain001Message[] = [];
    const headers: Headers[] = [];
    globalThis.fetch = (async (input: Parameters<typeof fetch>[0], init?: Parameters<typeof fetch>[1]) => {
      if (String(input).endsWith('/pain001') && typeof init?.body === 'string') {
        messages.push(parsePain001(init.body));
        headers.push(new Headers(init.headers));
      }
      return originalFetch(input, init);
    }) as typeof fetch;
    try {
      return { result: await work(), messages, headers };
    } finally {
      globalThis.fetch = originalFetch;
    }
  }

  it('when a chunk of 2,345 is initiated, then the bank receives one pain.001 per 1,000 with the right NbOfTxs and CtrlSum, and EndToEndId = rail key', async () => {
    const payments = Array.from({ length: 2_345 }, (_, i) =>
      payment(i % 10 === 0 ? SUFFIX.insufficient : SUFFIX.completed, { amount: { minor: BigInt(100 + i), currency: 'EUR' }, callbackUrl: receiver.url }),
    );

    const { result: outcomes, messages, headers } = await capturingPain001(() => adapter.initiateChunk(payments));

    assert.deepEqual(messages.map((m) => m.numberOfTransactions), [1_000, 1_000, 345]);
    let offset = 0;
    for (const message of messages) {
      const piece = payments.slice(offset, offset + message.numberOfTransactions);
      offset += message.numberOfTransactions;
      const expectedSum = piece.reduce((sum, p) => sum + p.amount.minor, 0n);
      assert.equal(message.controlSum, `${expectedSum / 100n}.${String(expectedSum % 100n).padStart(2, '0')}`);
      assert.equal(message.paymentInformation.length, 1);
      assert.deepEqual(message.paymentInformation[0]!.transactions.map((tx) => tx.endToEndId), piece.map((p) => p.railKey));
      assert.deepEqual(message.paymentInformation[0]!.debtorAccount, { iban: BANK_SIMULATOR_TREASURY.iban });
    }
    assert.equal(new Set(messages.map((m) => m.messageId)).size, 3, 'every message has its own MsgId');
    assert.ok(headers.every((h) => h.get('x-callback-url') === receiver.url && /application\/xml/.test(h.get('content-type') ?? '')));
    assert.equal(outcomes.size, payments.length);
    for (const [i, p] of payments.entries()) {
      const outcome = outcomeOf(outcomes, p);
      if (i % 10 === 0) assert.deepEqual([outcome.status, outcome.status === 'failed' && outcome.reasonCode], ['failed', 'AM04']);
      else assert.equal(outcome.status, 'completed');
    }
    assert.equal(simulator.executionCounts().size, payments.length);
  });

  it('when the same chunk is sent twice, then the bank executes each payment once and answers the same outcomes', async () => {
    const chunk = [payment(SUFFIX.completed), payment(SUFFIX.failed), payment(SUFFIX.pending)];

    const first = await adapter.initiateChunk(chunk);
    const second = await adapter.initiateChunk(chunk);

    assert.deepEqual(outcomeOf(second, chunk[0]!), outcomeOf(first, chunk[0]!));
    assert.deepEqual(outcomeOf(second, chunk[1]!), outcomeOf(first, chunk[1]!));
    assert.equal(outcomeOf(second, chunk[2]!).railReference, outcomeOf(first, chunk[2]!).railReference);
    for (const p of chunk) {
      assert.equal(simulator.executions(p.railKey), 1);
      assert.equal(simulator.requestCount(p.railKey), 2);
    }
    const counts = await (await fetch(`${simulator.url}/_sim/executions/${chunk[0]!.railKey}`)).json();
    assert.deepEqual(counts, { key: chunk[0]!.railKey, executions: 1, requests: 2 });
  });

  it('when a key is reused for a different payment, then that transaction is rejected DU04 and the first execution stands', async () => {
    const original = payment(SUFFIX.completed);
    const first = outcomeOf(await adapter.initiateChunk([original]), original);
    const changed = { ...original, amount: { minor: 99_999n, currency: 'EUR' } };

    const second = outcomeOf(await adapter.initiateChunk([changed]), changed);

    assert.ok(second.status === 'failed' && second.reasonCode === 'DU04');
    assert.equal(simulator.executions(original.railKey), 1);
    assert.deepEqual(await adapter.getStatus(original.railKey), first);
  });

  it('when the bank executes but answers after the timeout, then the adapter throws RailError unknown and getStatus finds it completed, executed once', async () => {
    const impatient = adapterFor(simulator, { timeoutMs: '200' });
    try {
      simulator.setBehaviour({ mode: 'timeout' });
      const p = payment(SUFFIX.completed);

      const error = await railErrorFrom(impatient.initiateChunk([p]));

      assert.equal(error.decision, 'unknown');
      assert.equal(simulator.executions(p.railKey), 1);
      const status = await impatient.getStatus(p.railKey);
      assert.equal(status.status, 'completed');
      simulator.setBehaviour({ mode: 'normal' });
      assert.deepEqual(outcomeOf(await impatient.initiateChunk([p]), p), status, 'a resend under the same key answers the execution');
      assert.equal(simulator.executions(p.railKey), 1);
    } finally {
      await impatient.close();
    }
  });

  it('when the bank is down, then the adapter throws RailError unavailable and nothing runs; when it is back, the same key goes through once', async () => {
    const p = payment(SUFFIX.completed);
    await fetch(`${simulator.url}/_sim/behaviour`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ mode: 'down' }) });

    assert.equal((await railErrorFrom(adapter.initiateChunk([p]))).decision, 'unavailable');
    assert.equal((await railErrorFrom(adapter.getStatus(p.railKey))).decision, 'unavailable');
    assert.equal((await railErrorFrom(adapter.fetchStatement({ from: isoDay(), to: isoDay() }))).decision, 'unavailable');
    assert.equal(simulator.executions(p.railKey), 0);
    const wallet = payment(SUFFIX.completed, { payee: { type: 'msisdn', value: '+254712345678' } });
    const mixed = await adapter.initiateChunk([wallet, p]);
    assert.equal(outcomeOf(mixed, wallet).status, 'failed', 'an outcome decided before sending stands');
    assert.ok(isRailError(mixed.get(p.railKey)) && (mixed.get(p.railKey) as RailError).decision === 'unavailable');

    simulator.setBehaviour({ mode: 'normal' });
    assert.equal(outcomeOf(await adapter.initiateChunk([p]), p).status, 'completed');
    assert.equal(simulator.executions(p.railKey), 1);
  });

  it('when the bank cannot be reached, then the adapter throws RailError unavailable', async () => {
    const p = payment(SUFFIX.completed);
    await adapter.initiateChunk([payment(SUFFIX.completed)]); // leaves a pooled keep-alive connection behind
    await simulator.close();

    assert.equal((await railErrorFrom(adapter.initiateChunk([p]))).decision, 'unavailable');
    assert.equal((await railErrorFrom(adapter.getStatus(p.railKey))).decision, 'unavailable');
  });

  it('when the bank is slow but within the timeout, then the chunk completes', async () => {
    simulator.setBehaviour({ mode: 'slow', delayMs: 150 });
    const p = payment(SUFFIX.completed);
    const started = performance.now();

    assert.equal(outcomeOf(await adapter.initiateChunk([p]), p).status, 'completed');
    assert.ok(performance.now() - started >= 140, 'slow mode answers late');
  });

  it('when a payment cannot be a credit transfer, then it fails before sending with an ISO reason while the rest of the chunk goes through', async () => {
    const wallet = payment(SUFFIX.completed, { payee: { type: 'msisdn', value: '+254712345678' } });
    const fee = payment(SUFFIX.completed, { kind: 'fee' });
    const fine = payment(SUFFIX.completed);

    const outcomes = await adapter.initiateChunk([wallet, fee, fine]);

    assert.deepEqual(outcomeOf(outcomes, wallet), { status: 'failed', reasonCode: 'AC03', reason: 'not sent to the bank: the payee is a msisdn, not a bank account (iban or bank_account)' });
    assert.equal((outcomeOf(outcomes, fee) as { reasonCode?: string }).reasonCode, 'AG03');
    assert.equal(outcomeOf(outcomes, fine).status, 'completed');
    assert.equal(simulator.executions(wallet.railKey) + simulator.executions(fee.railKey), 0);
    await assert.rejects(adapter.initiateChunk([fine, fine]), /occurs twice in the chunk/);
    await assert.rejects(adapter.initiateChunk([payment(SUFFIX.completed, { railKey: 'K'.repeat(36) })]), /1 to 35 characters/);
  });

  it('when the bank pushes a settled payment, then the signed push is parsed; duplicated pushes give the same notification', async () => {
    simulator.setBehaviour({ mode: 'normal', callbacks: 'duplicate' });
    const settles = payment(SUFFIX.pending, { callbackUrl: receiver.url });
    const rejectsLater = payment(SUFFIX.lateReject, { callbackUrl: receiver.url });
    const outcomes = await adapter.initiateChunk([settles, rejectsLater]);
    assert.equal(outcomeOf(outcomes, settles).status, 'pending');
    assert.equal(outcomeOf(outcomes, rejectsLater).status, 'pending');

    const pushes = await receiver.waitFor(settles.railKey, 2);
    const [first, second] = await Promise.all(pushes.map((push) => adapter.parseCallback(push)));

    assert.deepEqual(first, second);
    assert.deepEqual(first, [
      { railKey: settles.railKey, outcome: { status: 'completed', railReference: outcomeOf(outcomes, settles).railReference! } },
      { railKey: rejectsLater.railKey, outcome: { status: 'failed', reasonCode: 'AC06', reason: 'blocked account', railReference: outcomeOf(outcomes, rejectsLater).railReference! } },
    ]);
    assert.match(String(pushes[0]!.headers['x-bank-signature']), /^t=\d+,v1=[0-9a-f]{64}$/);
  });

  it('when a push is forged, stale, unsigned, altered or not ISO 20022, then it is rejected and says why', async () => {
    const settles = payment(SUFFIX.pending, { callbackUrl: receiver.url });
    await adapter.initiateChunk([settles]);
    const [genuine] = await receiver.waitFor(settles.railKey);
    const body = genuine!.rawBody;
    const now = Math.floor(Date.now() / 1000);
    const rejected = async (request: RailCallbackRequest, reason: RegExp) => {
      const error = await rejection(adapter.parseCallback(request));
      assert.ok(error instanceof RailCallbackRejected, `expected RailCallbackRejected, got ${String(error)}`);
      assert.match(error.message, reason);
    };

    await rejected({ headers: { 'x-bank-signature': signBankPush('not-the-bank-secret-at-all', body) }, rawBody: body }, /does not match the body/);
    await rejected({ headers: { 'x-bank-signature': signBankPush(SECRET, body, now - 3_600) }, rawBody: body }, /outside the accepted window/);
    await rejected({ headers: {}, rawBody: body }, /no X-Bank-Signature header/);
    await rejected({ headers: { 'x-bank-signature': 'sha256=abc' }, rawBody: body }, /is not "t=<seconds>,v1=<hex>"/);
    await rejected({ headers: genuine!.headers, rawBody: Buffer.from(body.toString('utf8').replace(/ACSC/g, 'RJCT')) }, /does not match/);
    const json = Buffer.from('{"status":"completed"}');
    await rejected({ headers: { 'X-Bank-Signature': signBankPush(SECRET, json) }, rawBody: json }, /expected a pain\.002 or camt\.054 document/);
    const broken = Buffer.from('<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.002.001.11"><CstmrPmtStsRpt><GrpHdr>');
    await rejected({ headers: { 'x-bank-signature': signBankPush(SECRET, broken) }, rawBody: broken }, /malformed XML at line 1/);
    assert.ok((await adapter.parseCallback(genuine!)).length === 1, 'the genuine push still verifies');
  });

  it('when the creditor bank returns a payment, then a reversal is booked and pushed as camt.054, failing the payment with the reason', async () => {
    const p = payment(SUFFIX.completed, { callbackUrl: receiver.url });
    assert.equal(outcomeOf(await adapter.initiateChunk([p]), p).status, 'completed');

    const returned = await fetch(`${simulator.url}/_sim/returns/${p.railKey}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ reasonCode: 'MD07' }) });
    assert.equal(returned.status, 201);
    const [push] = await receiver.waitFor(p.railKey);
    const notifications = await adapter.parseCallback(push!);

    assert.match(push!.text, /camt\.054\.001\.08/);
    assert.deepEqual(notifications.map((n) => [n.railKey, n.outcome.status, n.outcome.status === 'failed' && n.outcome.reasonCode]), [[p.railKey, 'failed', 'MD07']]);
    const again = await fetch(`${simulator.url}/_sim/returns/${p.railKey}`, { method: 'POST' });
    assert.equal(again.status, 409);
    assert.equal((await fetch(`${simulator.url}/_sim/returns/${freshKey('X')}`, { method: 'POST' })).status, 404);
  });

  it('when payments completed, failed, settled later and came back, then camt.053 and MT940 tie out exactly with the executions', async () => {
    const completed = Array.from({ length: 5 }, (_, i) => payment(SUFFIX.completed, { amount: { minor: BigInt(1_000 * (i + 1)) + 1n, currency: 'EUR' } }));
    const rejected = [payment(SUFFIX.failed), payment(SUFFIX.insufficient)];
    const settled = payment(SUFFIX.pending, { amount: { minor: 777n, currency: 'EUR' } });
    const bankAccount = payment(SUFFIX.completed, { payee: { type: 'bank_account', value: '0110234567800', institution: 'KCB-01' }, amount: { minor: 5n, currency: 'EUR' } });
    const kes = payment(SUFFIX.completed, { amount: { minor: 250_000n, currency: 'KES' } });
    await adapter.initiateChunk([...completed, ...rejected, settled, bankAccount, kes]);
    await delay(SETTLE_MS * 3);
    simulator.returnPayment(completed[1]!.railKey, 'AC04');
    const range = { from: isoDay(-1), to: isoDay(1) };

    const entries = await adapter.fetchStatement(range);

    const debited = [...completed, settled, bankAccount];
    const eurDebits = entries.filter((e) => e.direction === 'debit' && e.amount.currency === 'EUR');
    assert.deepEqual(eurDebits.flatMap((e) => e.batchRailKeys ?? (e.railKey ? [e.railKey] : [])).sort(), debited.map((p) => p.railKey).sort(), 'every executed payment is booked once');
    assert.equal(
      eurDebits.reduce((sum, e) => sum + e.amount.minor, 0n),
      debited.reduce((sum, p) => sum + p.amount.minor, 0n),
    );
    const batch = eurDebits.find((e) => (e.batchRailKeys?.length ?? 0) > 1)!;
    assert.deepEqual(batch.batchRailKeys, [...completed, bankAccount].map((p) => p.railKey), 'the chunk is one batch debit');
    const single = eurDebits.find((e) => e.railKey === settled.railKey)!;
    assert.equal(single.railReference, (await adapter.getStatus(settled.railKey) as { railReference: string }).railReference);
    const reversal = entries.filter((e) => e.reversal);
    assert.deepEqual(reversal.map((e) => [e.railKey, e.direction, e.amount, e.reasonCode]), [[completed[1]!.railKey, 'credit', completed[1]!.amount, 'AC04']]);
    assert.ok(!entries.some((e) => rejected.some((p) => e.railKey === p.railKey || e.batchRailKeys?.includes(p.railKey))), 'rejections are not booked');
    assert.deepEqual(entries.filter((e) => e.amount.currency === 'KES').map((e) => [e.railKey, e.amount.minor]), [[kes.railKey, 250_000n]]);

    const camt = parseCamt053(await (await fetch(`${simulator.url}/statements/camt053?from=${range.from}&to=${range.to}`)).text());
    for (const statement of camt.reports) {
      const [opening, closing] = statement.balances;
      const net = statement.entries.reduce((sum, e) => sum + (e.direction === 'credit' ? e.amount.minor : -e.amount.minor), 0n);
      const signed = (b: typeof opening) => (b!.direction === 'credit' ? b!.amount.minor : -b!.amount.minor);
      assert.equal(signed(closing), signed(opening) + net, `${statement.id}: OPBD + entries = CLBD`);
    }

    const mt940Adapter = adapterFor(simulator, { statementFormat: 'mt940' });
    try {
      const mt940Entries = await mt940Adapter.fetchStatement(range);
      assert.deepEqual(
        mt940Entries.map((e) => [e.railReference, e.amount, e.direction, e.reversal, e.reasonCode]),
        entries.map((e) => [e.railReference, e.amount, e.direction, e.reversal, e.reasonCode]),
        'MT940 and camt.053 report the same bookings',
      );
      assert.deepEqual(mt940Entries.find((e) => e.reversal)?.railKey, completed[1]!.railKey);
      const text = await (await fetch(`${simulator.url}/statements/camt053?from=${range.from}&to=${range.to}&format=mt940`)).text();
      assert.equal(parseMt940(text).length, camt.reports.length, 'one MT940 message per camt.053 Stmt (balances checked by the parser)');
    } finally {
      await mt940Adapter.close();
    }
  });

  it('when the bank receives a malformed pain.001, then it answers 400 with a pain.002 RJCT naming the problem and executes nothing', async () => {
    const post = (body: string, contentType = 'application/xml') => fetch(`${simulator.url}/pain001`, { method: 'POST', headers: { 'content-type': contentType }, body });
    const bad = await post('<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.09"><CstmrCdtTrfInitn><GrpHdr><MsgId>M1</MsgId></GrpHdr></CstmrCdtTrfInitn></Document>');
    const text = await bad.text();

    assert.equal(bad.status, 400);
    assert.match(text, /<GrpSts>RJCT<\/GrpSts><StsRsnInf><Rsn><Cd>FF01<\/Cd><\/Rsn><AddtlInf>pain\.001: CstmrCdtTrfInitn\/GrpHdr\/CreDtTm is missing<\/AddtlInf>/);
    assert.equal((await post('{"not":"xml"}', 'application/json')).status, 415);
    assert.equal(simulator.executionCounts().size, 0);
    assert.equal((await fetch(`${simulator.url}/statements/camt053?from=2024-02-30&to=2024-03-01`)).status, 400);
  });

  it('when statement dates are wrong or the adapter is closed, then it says so before calling the bank', async () => {
    await assert.rejects(adapter.fetchStatement({ from: '2024-03-02', to: '2024-03-01' }), /must be two ISO dates, from <= to/);
    await adapter.close();
    await assert.rejects(adapter.getStatus('K1'), /closed/);
  });
});
