import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { BANK_SIMULATOR_TREASURY, startBankSimulator, type BankSimulator } from '../../adapters/bank-iso20022/simulator.ts';
import { ibanEndingWith } from '../fixtures/iso20022/support.ts';
import { apiClient, benefitOrder } from '../support/http.ts';
import { eventually, orderReaching, startTestKassa, type TestKassa } from '../support/kassa.ts';

const BANK = 'bank-iso20022';

describe('scheduled statement pulls', function () {
  this.timeout(180_000);
  let bank: BankSimulator;
  let kassa: TestKassa;

  before(async () => {
    bank = await startBankSimulator({ settleDelayMs: 300 });
    kassa = await startTestKassa({
      backend: 'postgres',
      env: {
        RAILS: `${BANK},sandbox`,
        RAIL_ROUTES: JSON.stringify([{ rail: BANK, partyType: 'iban', direction: 'disbursement' }, { rail: 'sandbox' }]),
        RAIL_BANK_ISO20022_BASE_URL: bank.url,
        RAIL_BANK_ISO20022_DEBTOR_NAME: BANK_SIMULATOR_TREASURY.name,
        RAIL_BANK_ISO20022_DEBTOR_IBAN: BANK_SIMULATOR_TREASURY.iban,
        RAIL_BANK_ISO20022_DEBTOR_BIC: BANK_SIMULATOR_TREASURY.bic,
        RAIL_BANK_ISO20022_CALLBACK_SECRET: bank.callbackSecret,
        // MT940: the bank's bulk bookings name no end-to-end ids, only their count and total.
        RAIL_BANK_ISO20022_STATEMENT_FORMAT: 'mt940',
        RECON_SCHEDULES: JSON.stringify([{ rail: BANK, every: 1000 }, { rail: BANK, cron: '0 23 * * *' }]),
        RECON_MISSING_AFTER_DAYS: '0',
      },
    });
  });
  after(async () => {
    await kassa?.stop();
    await bank?.close();
  });

  it('when pulls are scheduled, then the worker pulls the bank’s MT940 statement by itself, matches bulk bookings by count and total, and finds nothing wrong', async () => {
    const treasury = apiClient(kassa.url, await kassa.issueKey('ministry-of-finance', ['treasury:read']));
    const agency = apiClient(kassa.url, await kassa.issueKey('pensions-agency', ['benefits:write', 'orders:read']));
    const pay = async (ending: string) =>
      (await agency.post('/v1/orders', benefitOrder({ payee: { type: 'iban', value: ibanEndingWith(ending), institution: 'SIMBDEFFXXX' }, currency: 'EUR', amount: '42.10' }), randomUUID())).body.id as string;
    const ids = await Promise.all(['5101', '5102', '5103', '5104', '0002', '0002', '5105'].map(pay));
    for (const id of ids) await orderReaching(agency, id, 'completed');
    const keys = (await kassa.runtime.context.db('orders').whereIn('id', ids).select('rail_key')).map((row: { rail_key: string }) => row.rail_key as string);
    const paidCovered = async () => bank.bookings().flatMap((booking) => booking.transactions).filter((tx) => keys.includes(tx.endToEndId)).length === keys.length;

    // The scheduled pulls go on; a pull that finds nothing new is the statement seen before, and no new run.
    const coveredPayments = async () => (await kassa.runtime.context.db.raw(
      `SELECT rail_key, match_method FROM statement_line_payments WHERE rail_key = ANY(?) UNION SELECT rail_key, 'reference' FROM statement_lines WHERE rail_key = ANY(?)`, [keys, keys],
    )).rows as { rail_key: string; match_method: string }[];
    // A pull can come between two bookings of the bank: the run to look at is one after every payment was booked.
    const run = await eventually(async () => {
      const [latest] = (await treasury.get(`/v1/statements?rail=${BANK}&limit=1`)).body.data as { id: string; lines: number }[];
      if (!latest || latest.lines < 2) return undefined;
      const [found] = (await treasury.get(`/v1/reconciliation/runs?statement_id=${latest.id}`)).body.data as { trigger: string; lines: number; matched: number; status: string }[];
      const complete = found?.status === 'completed' && found.lines === latest.lines && (await paidCovered());
      return complete && new Set((await coveredPayments()).map((row) => row.rail_key)).size === keys.length ? found : undefined;
    }, { timeoutMs: 30_000, what: 'a scheduled run of the statement with every payment' });
    const db = kassa.runtime.context.db;
    const dump = async () => JSON.stringify({
      events: (await db.raw(`SELECT o.rail_key, e.created_at, e.to_status FROM orders o JOIN order_events e ON e.order_id = o.id WHERE o.rail = 'bank-iso20022' AND e.to_status = 'completed' ORDER BY e.id`)).rows,
      lines: (await db.raw(`SELECT line_number, amount_minor, batch_count, value_date::text, rail_reference, statement_id FROM statement_lines ORDER BY statement_id, line_number`)).rows,
    }, null, 1);
    assert.equal(run.trigger, 'schedule');
    assert.equal(run.matched, run.lines, `${JSON.stringify(run)} ${await dump()}`);
    const covered = await coveredPayments();
    assert.deepEqual([...new Set(covered.map((row) => row.rail_key))].sort(), [...keys].sort(), 'every payment is shown by a statement line');
    assert.ok(covered.filter((row) => row.match_method === 'total').length >= 2, 'bulk bookings without their keys are matched on count and total');
    const exceptions = await treasury.get('/v1/reconciliation/exceptions?limit=200');
    assert.deepEqual(exceptions.body.data, [], 'scheduled pulls, however often, find nothing wrong and count nothing twice');
    const schedulers = await kassa.runtime.context.queues.queue('reconciliation').getJobSchedulers();
    assert.deepEqual(schedulers.map((scheduler) => scheduler.key).sort(), [`reconcile-${BANK}-0`, `reconcile-${BANK}-1`]);
  });
});
