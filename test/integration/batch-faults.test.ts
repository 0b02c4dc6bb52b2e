import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { BANK_SIMULATOR_TREASURY, startBankSimulator, type BankSimulator } from '../../adapters/bank-iso20022/simulator.ts';
import { startGsmaSimulator, type GsmaSimulator } from '../../adapters/gsma-mobile-money/simulator.ts';
import { withCheckDigits } from '../../bench/support/payees.ts';
import { apiClient } from '../support/http.ts';
import { eventually, startTestKassa, type TestKassa } from '../support/kassa.ts';

const PAYMENTS = 20_000;
const INSTITUTION = 'SOCIAL-REG';
/** Every 97th beneficiary was never registered; every 101st account is closed at its bank or operator. */
const isUnknown = (index: number) => index % 97 === 0;
const isClosed = (index: number) => index % 101 === 0 && !isUnknown(index);

function account(index: number): { modality: '00' | '01'; address: string } {
  const ending = isClosed(index) ? '0000' : '5';
  if (index % 2 === 0) return { modality: '00', address: withCheckDigits('DE', `37040044${String(index).padStart(10 - ending.length, '0')}${ending}`) };
  return { modality: '01', address: `+2547${String(index).padStart(8 - ending.length, '0')}${ending}` };
}

const functionalId = (index: number) => `NID${String(index).padStart(10, '0')}`;

describe('a 20,000-payment batch over a bank and a mobile-money operator, with faults', function () {
  this.timeout(300_000);
  let bank: BankSimulator;
  let operator: GsmaSimulator;
  let kassa: TestKassa;

  before(async function () {
    bank = await startBankSimulator();
    operator = await startGsmaSimulator();
    kassa = await startTestKassa({
      backend: 'postgres',
      env: {
        RAILS: 'bank-iso20022,gsma-mobile-money,sandbox',
        RAIL_ROUTES: JSON.stringify([{ rail: 'bank-iso20022', partyType: 'iban' }, { rail: 'gsma-mobile-money', partyType: 'msisdn' }]),
        RAIL_BANK_ISO20022_BASE_URL: bank.url,
        RAIL_BANK_ISO20022_DEBTOR_NAME: BANK_SIMULATOR_TREASURY.name,
        RAIL_BANK_ISO20022_DEBTOR_IBAN: BANK_SIMULATOR_TREASURY.iban,
        RAIL_BANK_ISO20022_DEBTOR_BIC: BANK_SIMULATOR_TREASURY.bic,
        RAIL_BANK_ISO20022_CALLBACK_SECRET: bank.callbackSecret,
        RAIL_GSMA_MOBILE_MONEY_BASE_URL: operator.url,
        RAIL_GSMA_MOBILE_MONEY_CLIENT_ID: operator.clientId,
        RAIL_GSMA_MOBILE_MONEY_CLIENT_SECRET: operator.clientSecret,
        RAIL_GSMA_MOBILE_MONEY_CALLBACK_SECRET: operator.callbackSecret,
        RAIL_GSMA_MOBILE_MONEY_DISBURSEMENT_ACCOUNT: 'walletid:GOV-DISBURSEMENTS',
        RAIL_GSMA_MOBILE_MONEY_COLLECTION_ACCOUNT: 'walletid:GOV-COLLECTIONS',
        RAIL_GSMA_MOBILE_MONEY_CURRENCIES: 'KES',
        BATCH_CHUNK_ROWS: '500',
        BATCH_MONITOR_MS: '300',
        DISPATCH_CHUNK_SIZE: '500',
      },
    });
  });

  after(async function () {
    await kassa?.stop();
    await bank?.close();
    await operator?.close();
  });

  it('when some beneficiaries are unknown, some accounts closed and the bank goes down mid-batch, then every payment ends final, none twice, and the totals agree with the budget and the rails', async function () {
    const admin = apiClient(kassa.url, await kassa.issueKey('social-agency', ['admin']));
    const maker = apiClient(kassa.url, await kassa.issueKey('social-agency', ['benefits:write', 'orders:read']));
    const checker = apiClient(kassa.url, await kassa.issueKey('social-agency', ['benefits:approve', 'orders:read']));
    const program = await admin.post('/v1/programs', { code: 'CASH', name: 'Cash transfer', currency: 'KES', funding_account: { type: 'iban', value: BANK_SIMULATOR_TREASURY.iban }, budget: '1000000.00', approval_threshold: '0' }, randomUUID());
    assert.equal(program.status, 201, JSON.stringify(program.body));

    for (let start = 0; start < PAYMENTS; start += 5000) {
      const beneficiaries = [];
      for (let index = start; index < start + 5000; index += 1) {
        if (isUnknown(index)) continue;
        beneficiaries.push({ payeeIdentity: functionalId(index), PaymentModality: account(index).modality, FinancialAddress: account(index).address });
      }
      const registered = await maker.post('/identityAccountMapper/beneficiary', { RequestID: `REG${start}`, Beneficiaries: beneficiaries }, undefined, {
        'X-Callback-URL': 'http://127.0.0.1:9/unused', 'X-Registering-Institution-ID': INSTITUTION,
      });
      assert.equal(registered.status, 200, JSON.stringify(registered.body));
    }

    const header = 'id,request_id,payment_mode,payer_identifier_type,payer_identifier,payee_identifier_type,payee_identifier,amount,currency,note';
    const rows = Array.from({ length: PAYMENTS }, (_, index) => `${index + 1},PAY-${index},,,,FUNCTIONAL_ID,${functionalId(index)},${index % 2 === 0 ? '12.50' : '7.25'},KES,november`);
    const totalCents = Array.from({ length: PAYMENTS }, (_, index) => (index % 2 === 0 ? 1250 : 725)).reduce((a, b) => a + b, 0);
    const submitted = await maker.call('POST', `/v1/batches?program=CASH&registering_institution=${INSTITUTION}&control_count=${PAYMENTS}&control_total=KES:${(totalCents / 100).toFixed(2)}`, {
      rawBody: `${header}\n${rows.join('\n')}\n`, idempotencyKey: randomUUID(), headers: { 'content-type': 'text/csv' },
    });
    assert.equal(submitted.status, 202, JSON.stringify(submitted.body));
    const batchId = submitted.body.id as string;
    const validated = await eventually(async () => {
      const batch = await maker.get(`/v1/batches/${batchId}`);
      return batch.body.status === 'awaiting_approval' ? batch.body : undefined;
    }, { timeoutMs: 60_000, what: 'validation' });
    const unknown = Array.from({ length: PAYMENTS }, (_, index) => index).filter(isUnknown).length;
    assert.equal(validated.validation.invalid, unknown);
    assert.equal((await checker.post(`/v1/batches/${batchId}/approve`, undefined, randomUUID())).status, 200);

    // The bank goes down once a quarter of the payments are final, and comes back a few seconds later.
    await eventually(async () => {
      const batch = await maker.get(`/v1/batches/${batchId}`);
      return batch.body.payments.completed.count >= PAYMENTS / 4 ? true : undefined;
    }, { timeoutMs: 120_000, intervalMs: 50, what: 'a quarter of the payments' });
    // It stays down until Kassa's calls to it have failed, so the outage always lands on payments in flight.
    const failedBankCalls = async () => {
      const histogram = await kassa.runtime.context.metrics.railLatency.get();
      return histogram.values.filter((value) => value.metricName === 'kassa_rail_request_seconds_count' && value.labels.rail === 'bank-iso20022' && value.labels.outcome !== 'answered')
        .reduce((sum, value) => sum + value.value, 0);
    };
    bank.setBehaviour({ mode: 'down' });
    await eventually(async () => ((await failedBankCalls()) > 0 ? true : undefined), { timeoutMs: 60_000, intervalMs: 50, what: 'a call to the bank to fail' });
    await new Promise((resolve) => setTimeout(resolve, 1000));
    bank.setBehaviour({ mode: 'normal' });

    const done = await eventually(async () => {
      const batch = await maker.get(`/v1/batches/${batchId}`);
      return batch.body.status === 'completed' ? batch.body : undefined;
    }, { timeoutMs: 240_000, intervalMs: 500, what: 'the batch to complete' });

    const closed = Array.from({ length: PAYMENTS }, (_, index) => index).filter(isClosed);
    assert.equal(done.payments.in_progress.count + done.payments.not_sent.count, 0);
    assert.equal(done.payments.failed.count, closed.length);
    assert.equal(done.payments.completed.count, PAYMENTS - unknown - closed.length);

    const unpaid = await maker.get(`/v1/batches/${batchId}/payments?outcome=failed&limit=1000`);
    assert.equal(unpaid.body.data.every((row: { reason: { code: string } | null }) => typeof row.reason?.code === 'string' && row.reason.code.length > 0), true, 'every failed payment carries a reason code');
    assert.deepEqual(unpaid.body.data.map((row: { instruction_id: string }) => row.instruction_id).sort(), closed.map((index) => `PAY-${index}`).sort());

    const { rows: orders } = (await kassa.runtime.context.db.raw(`SELECT rail, rail_key, status, amount_minor FROM orders WHERE batch_id = ?`, [batchId])) as { rows: { rail: string; rail_key: string; status: string; amount_minor: string }[] };
    assert.equal(orders.length, PAYMENTS - unknown);
    const counted = new Map<string, number>();
    for (const order of orders) counted.set(order.status, (counted.get(order.status) ?? 0) + 1);
    const { rows: tallies } = (await kassa.runtime.context.db.raw(
      `SELECT status, sum(orders)::int AS orders FROM batch_order_tallies WHERE batch_id = ? GROUP BY status HAVING sum(orders) <> 0`, [batchId],
    )) as { rows: { status: string; orders: number }[] };
    assert.deepEqual(new Map(tallies.map((tally) => [tally.status, tally.orders])), counted, 'the batch\'s running tallies agree with its orders');
    const executions = orders.map((order) => (order.rail === 'bank-iso20022' ? bank.executions(order.rail_key) : operator.executions(order.rail_key)));
    assert.deepEqual(new Set(executions), new Set([1]), 'every payment executed exactly once at its rail');

    const completedMinor = orders.filter((order) => order.status === 'completed').reduce((sum, order) => sum + BigInt(order.amount_minor), 0n);
    const bankBooked = bank.bookings().filter((booking) => booking.iban === BANK_SIMULATOR_TREASURY.iban && booking.direction === 'debit')
      .reduce((sum, booking) => sum + booking.amount.minor, 0n);
    const bankCompleted = orders.filter((order) => order.status === 'completed' && order.rail === 'bank-iso20022').reduce((sum, order) => sum + BigInt(order.amount_minor), 0n);
    assert.equal(bankBooked, bankCompleted, 'the bank booked exactly what Kassa says it paid through the bank');

    const budget = await admin.get('/v1/programs');
    const cash = budget.body.data.find((entry: { code: string }) => entry.code === 'CASH');
    assert.equal(cash.disbursed, done.payments.completed.amount);
    assert.equal(cash.blocked, '0.00');
    assert.equal(done.funds.disbursed, done.payments.completed.amount);
    assert.equal(BigInt(done.payments.completed.amount.replace('.', '')), completedMinor);

    const ledger = await admin.get('/v1/ledger/accounts?currency=KES');
    const entries = ledger.body.data as { account: string; kind: string; balance_minor: string }[];
    const balance = (account: string) => BigInt(entries.find((entry) => entry.account === account)?.balance_minor ?? '0');
    assert.equal(balance(`program:${program.body.id}:disbursed`), completedMinor, 'the ledger spent what the batch paid');
    assert.equal(balance(`program:${program.body.id}:reserved`), 0n);
    assert.equal(balance(`program:${program.body.id}:budget`), -completedMinor);
    assert.equal(entries.filter((entry) => entry.kind === 'clearing').reduce((sum, entry) => sum + BigInt(entry.balance_minor), 0n), 0n, 'nothing is left in transit at the rails');
  });
});
