import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { fundsBlocked, fundsReleased } from '../../src/domain/ledger.ts';
import { listAccounts, listOrderJournals, postJournal, type Journal } from '../../src/db/repositories/ledger.ts';
import { transitionOrders } from '../../src/db/repositories/orders.ts';
import { apiClient } from '../support/http.ts';
import { eventually, orderReaching, startTestKassa, type TestKassa } from '../support/kassa.ts';
import { organisationIdOf, seedOrders } from '../support/seed-orders.ts';

type Api = ReturnType<typeof apiClient>;

const ORGANISATION = 'social-protection-agency';
const FUNDING = { type: 'iban', value: 'GB82WEST12345698765432' };
const CLOSED_ACCOUNT = '+254712340000';
const today = () => new Date().toISOString().slice(0, 10);

function payment(index: number, payee = `+2547123${String(index).padStart(5, '3')}`) {
  return { instruction_id: `LEDGER-${index}`, payee: { type: 'msisdn', value: payee, institution: 'MPESA' }, amount: '5.00', currency: 'KES' };
}

describe('the double-entry ledger', function () {
  this.timeout(180_000);
  let kassa: TestKassa;
  let admin: Api;
  let maker: Api;
  let checker: Api;
  let organisationId: string;

  before(async () => {
    kassa = await startTestKassa({ backend: 'postgres', env: { BATCH_MONITOR_MS: '200', BATCH_CHUNK_ROWS: '50' } });
    admin = apiClient(kassa.url, await kassa.issueKey(ORGANISATION, ['admin']));
    maker = apiClient(kassa.url, await kassa.issueKey(ORGANISATION, ['benefits:write', 'fees:write', 'orders:read']));
    checker = apiClient(kassa.url, await kassa.issueKey(ORGANISATION, ['benefits:approve', 'orders:read']));
    organisationId = await organisationIdOf(db(), ORGANISATION);
  });
  after(async () => {
    await kassa?.stop();
  });

  const db = () => kassa.runtime.context.db;
  const createProgram = async (code: string, budget: string) => {
    const created = await admin.post('/v1/programs', { code, name: `Programme ${code}`, currency: 'KES', funding_account: FUNDING, budget, approval_threshold: '0' }, randomUUID());
    assert.equal(created.status, 201, JSON.stringify(created.body));
    return created.body.id as string;
  };
  const balances = async (currency = 'KES', asOf?: Date) =>
    Object.fromEntries((await listAccounts(db(), { organisationId, currency, asOf })).map((account) => [account.code, account.balanceMinor]));
  const journalsOf = (kind: string, batchId: string) => db()('ledger_journals').where({ kind, batch_id: batchId }).orderBy('booked_at') as Promise<{ id: string; reverses_journal_id: string | null }[]>;
  const postingsOf = async (journalIds: readonly string[]) =>
    (await db()('ledger_postings').whereIn('journal_id', journalIds).select('account').sum({ total: 'amount_minor' }).groupBy('account') as { account: string; total: string }[])
      .map((row) => [row.account, BigInt(row.total)] as const)
      .sort(([a], [b]) => a.localeCompare(b));

  describe('what the database itself refuses', () => {
    let programId: string;
    before(async () => {
      programId = await createProgram('RAW', '10.00');
    });

    async function writeJournal(postings: readonly { account: string; currency: string; amount: bigint }[]): Promise<string> {
      const journalId = randomUUID();
      await db().transaction(async (trx) => {
        await trx.raw(`INSERT INTO ledger_journals (id, organisation_id, kind, program_id) VALUES (?, ?, 'benefit_funds_blocked', ?)`, [journalId, organisationId, programId]);
        for (const posting of postings) {
          await trx.raw(`INSERT INTO ledger_accounts (organisation_id, currency, code, kind) VALUES (?, ?, ?, 'suspense') ON CONFLICT DO NOTHING`, [organisationId, posting.currency, posting.account]);
          await trx.raw(`INSERT INTO ledger_postings (journal_id, organisation_id, account, currency, amount_minor) VALUES (?, ?, ?, ?, ?)`, [journalId, organisationId, posting.account, posting.currency, posting.amount.toString()]);
        }
      });
      return journalId;
    }
    const stored = async (journalId: string) => (await db()('ledger_journals').where({ id: journalId })).length;

    it('when a journal whose postings do not sum to zero is written by hand, then the commit is refused and nothing of it stays', async () => {
      const before = await db()('ledger_postings').count({ n: '*' });
      await assert.rejects(writeJournal([{ account: 'raw:a', currency: 'KES', amount: 100n }, { account: 'raw:b', currency: 'KES', amount: -90n }]), /does not balance: its postings sum to KES 10/);
      await assert.rejects(writeJournal([{ account: 'raw:a', currency: 'KES', amount: 100n }, { account: 'raw:b', currency: 'EUR', amount: -100n }]), /does not balance: its postings sum to EUR -100, KES 100/);
      await assert.rejects(writeJournal([{ account: 'raw:a', currency: 'KES', amount: 100n }]), /has 1 posting\(s\); a journal needs at least two/);
      await assert.rejects(writeJournal([]), /has 0 posting\(s\)/);
      assert.deepEqual(await db()('ledger_postings').count({ n: '*' }), before);
      const balanced = await writeJournal([{ account: 'raw:a', currency: 'KES', amount: 100n }, { account: 'raw:b', currency: 'KES', amount: -100n }]);
      assert.equal(await stored(balanced), 1, 'the same journal balanced is taken');
    });

    it('when a posting that unbalances a journal already committed is added, then the commit is refused', async () => {
      const journalId = await writeJournal([{ account: 'raw:a', currency: 'KES', amount: 7n }, { account: 'raw:b', currency: 'KES', amount: -7n }]);
      await assert.rejects(db().transaction(async (trx) => {
        await trx.raw(`INSERT INTO ledger_accounts (organisation_id, currency, code, kind) VALUES (?, 'KES', 'raw:c', 'suspense')`, [organisationId]);
        await trx.raw(`INSERT INTO ledger_postings (journal_id, organisation_id, account, currency, amount_minor) VALUES (?, ?, 'raw:c', 'KES', 1)`, [journalId, organisationId]);
      }), /does not balance: its postings sum to KES 1/);
    });

    it('when postings or journals are updated, deleted or truncated, then the database refuses', async () => {
      const journalId = await writeJournal([{ account: 'raw:a', currency: 'KES', amount: 5n }, { account: 'raw:b', currency: 'KES', amount: -5n }]);
      await assert.rejects(db().raw('UPDATE ledger_postings SET amount_minor = amount_minor * 2 WHERE journal_id = ?', [journalId]), /ledger_postings is append-only: UPDATE refused/);
      await assert.rejects(db().raw('DELETE FROM ledger_postings WHERE journal_id = ?', [journalId]), /ledger_postings is append-only: DELETE refused/);
      await assert.rejects(db().raw('UPDATE ledger_journals SET booked_at = booked_at - interval \'1 day\' WHERE id = ?', [journalId]), /ledger_journals is append-only: UPDATE refused/);
      await assert.rejects(db().raw('DELETE FROM ledger_journals WHERE id = ?', [journalId]), /ledger_journals is append-only: DELETE refused/);
      await assert.rejects(db().raw('TRUNCATE ledger_postings, ledger_journals'), /append-only: TRUNCATE refused/);
      assert.deepEqual((await db()('ledger_postings').where({ journal_id: journalId }).orderBy('amount_minor')).map((row) => row.amount_minor), ['-5', '5']);
    });
  });

  describe('balances', () => {
    it('when journals are posted one after another, then every balance is the sum of its postings and a balance as of a moment leaves out what came later', async () => {
      const programId = await createProgram('SUMS', '100.00');
      const funds = { organisationId, programId, batchId: randomUUID(), currency: 'KES' };
      const first = await postJournal(db(), fundsBlocked(funds, 5000n));
      // A moment is given to the millisecond; the journal was booked to the microsecond.
      const justAfterFirst = new Date((await db()('ledger_journals').where({ id: first }).first()).booked_at.getTime() + 1);
      await sleep(20);
      await postJournal(db(), fundsReleased(funds, 1500n));

      const now = await balances();
      assert.equal(now[`program:${programId}:reserved`], 3500n);
      assert.equal(now[`program:${programId}:budget`], -3500n);
      const asOfFirst = await balances('KES', justAfterFirst);
      assert.equal(asOfFirst[`program:${programId}:reserved`], 5000n);
      assert.equal(asOfFirst[`program:${programId}:budget`], -5000n);
      const beforeAll = await balances('KES', new Date(justAfterFirst.getTime() - 1000));
      assert.equal(beforeAll[`program:${programId}:reserved`], undefined, 'an account opened later is not listed');

      const sums = (await db().raw(
        `SELECT account, sum(amount_minor)::text AS total FROM ledger_postings WHERE organisation_id = ? AND currency = 'KES' GROUP BY account`,
        [organisationId],
      )).rows as { account: string; total: string }[];
      assert.deepEqual(Object.fromEntries(sums.map((row) => [row.account, BigInt(row.total)])), now);
    });
  });

  describe('fees', () => {
    it('when a fee order is paid, then fee revenue is credited against the clearing account of its rail and institution, and its completion names the journal', async () => {
      const before = await balances();
      const order = await maker.post('/v1/orders', {
        kind: 'fee', amount: '12.50', currency: 'KES', payer: { type: 'msisdn', value: '+254711000111', institution: 'MPESA' },
        payee: { type: 'iban', value: 'GB82WEST12345698765432' }, reference: 'permit fee',
      }, randomUUID());
      assert.equal(order.status, 201, JSON.stringify(order.body));
      await orderReaching(maker, order.body.id, 'completed');

      const journals = await listOrderJournals(db(), order.body.id);
      assert.deepEqual(journals.map((journal) => journal.kind), ['fee_collected']);
      const [collected] = journals as [Journal];
      assert.equal(collected.orderId, order.body.id);
      assert.deepEqual(collected.postings.map((posting) => [posting.account, posting.accountKind, posting.amountMinor]), [
        ['clearing:sandbox:MPESA', 'clearing', 1250n],
        ['fees:revenue', 'fee_revenue', -1250n],
      ]);
      const completion = await db()('order_events').where({ order_id: order.body.id, to_status: 'completed' }).first();
      assert.equal(completion.journal_id, collected.id);
      const after = await balances();
      assert.equal(after['fees:revenue']! - (before['fees:revenue'] ?? 0n), -1250n);
      assert.equal(after['clearing:sandbox:MPESA']! - (before['clearing:sandbox:MPESA'] ?? 0n), 1250n);
    });

    it('when a rail reports its fee with a completion, then the fee is posted out of clearing into the rail fees account, in the rail fee currency', async () => {
      const [seeded] = await seedOrders(db(), [{ organisationId, railKey: `FEE${randomUUID().replaceAll('-', '').slice(0, 20)}`, status: 'submitted', kind: 'fee', rail: 'stripe', amountMinor: 10000n, currency: 'EUR' }]);
      const [changed] = await transitionOrders(db(), 'completed', [{ id: seeded!.id, railReference: 'pi_1', railFee: { minor: 320n, currency: 'USD' } }]);
      assert.equal(changed?.order.status, 'completed');

      const [journal] = await listOrderJournals(db(), seeded!.id);
      assert.equal(journal?.kind, 'fee_collected');
      assert.deepEqual(journal!.postings.map((posting) => [posting.currency, posting.account, posting.amountMinor]), [
        ['EUR', 'clearing:stripe', 10000n],
        ['EUR', 'fees:revenue', -10000n],
        ['USD', 'rail-fees:stripe', 320n],
        ['USD', 'clearing:stripe', -320n],
      ]);
    });
  });

  describe('a batch of benefits', () => {
    let programId: string;
    let batchId: string;
    let orders: { id: string; status: string; amount_minor: string; rail_key: string }[];

    before(async () => {
      programId = await createProgram('CHILD', '1000.00');
      const payments = [...Array.from({ length: 118 }, (_, index) => payment(index)), payment(901, CLOSED_ACCOUNT), payment(902, CLOSED_ACCOUNT)];
      const submitted = await maker.post('/v1/batches', { program: 'CHILD', control: { count: 120, totals: { KES: '600.00' } }, payments }, randomUUID());
      assert.equal(submitted.status, 202, JSON.stringify(submitted.body));
      batchId = submitted.body.id;
      await eventually(async () => ((await maker.get(`/v1/batches/${batchId}`)).body.status === 'awaiting_approval' ? true : undefined), { what: 'the batch to await approval' });
    });

    it('when the batch is approved, then its total is blocked: out of the budget into the program’s blocked funds', async () => {
      assert.deepEqual(await journalsOf('benefit_funds_blocked', batchId), []);
      const approved = await checker.post(`/v1/batches/${batchId}/approve`, undefined, randomUUID());
      assert.equal(approved.status, 200, JSON.stringify(approved.body));

      const blocked = await journalsOf('benefit_funds_blocked', batchId);
      assert.equal(blocked.length, 1);
      assert.deepEqual(await postingsOf(blocked.map((journal) => journal.id)), [
        [`program:${programId}:budget`, -60000n],
        [`program:${programId}:reserved`, 60000n],
      ]);
    });

    it('when the batch has run, then each chunk posted its dispatch and completions, the failed amounts went back to the budget, and the ledger agrees with the program', async () => {
      await eventually(async () => ((await maker.get(`/v1/batches/${batchId}`)).body.status === 'completed' ? true : undefined), { what: 'the batch to complete', timeoutMs: 60_000 });
      orders = await db()('orders').where({ batch_id: batchId }).select('id', 'status', 'amount_minor', 'rail_key');
      assert.equal(orders.filter((order) => order.status === 'completed').length, 118);
      assert.equal(orders.filter((order) => order.status === 'failed').length, 2);

      const dispatched = await journalsOf('benefit_dispatched', batchId);
      assert.ok(dispatched.length >= 3 && dispatched.length < orders.length, `one journal per chunk, not per payment: ${dispatched.length}`);
      assert.deepEqual(await postingsOf(dispatched.map((journal) => journal.id)), [['clearing:sandbox:MPESA', 60000n], [`program:${programId}:reserved`, -60000n]]);
      const completed = await journalsOf('benefit_completed', batchId);
      assert.ok(completed.length >= 3 && completed.length < orders.length, `one journal per chunk, not per payment: ${completed.length}`);
      assert.deepEqual(await postingsOf(completed.map((journal) => journal.id)), [['clearing:sandbox:MPESA', -59000n], [`program:${programId}:disbursed`, 59000n]]);
      const failed = await journalsOf('benefit_failed', batchId);
      assert.deepEqual(await postingsOf(failed.map((journal) => journal.id)), [['clearing:sandbox:MPESA', -1000n], [`program:${programId}:reserved`, 1000n]]);
      assert.ok(failed.every((journal) => dispatched.some((dispatch) => dispatch.id === journal.reverses_journal_id)), 'a failure reverses the dispatch of its chunk');
      const released = await journalsOf('benefit_funds_released', batchId);
      assert.deepEqual(await postingsOf(released.map((journal) => journal.id)), [[`program:${programId}:budget`, 1000n], [`program:${programId}:reserved`, -1000n]]);

      const unposted = (await db().raw(
        `SELECT count(*)::int AS n FROM orders o JOIN order_events e ON e.order_id = o.id
         WHERE o.batch_id = ? AND e.to_status IN ('submitted', 'completed', 'failed') AND e.journal_id IS NULL`,
        [batchId],
      )).rows[0].n;
      assert.equal(unposted, 0, 'every payment names the journal of each of its money movements');

      const program = await db()('programs').where({ id: programId }).first();
      const ledger = await balances();
      assert.equal(ledger[`program:${programId}:disbursed`], BigInt(program.disbursed_minor));
      assert.equal(ledger[`program:${programId}:reserved`], BigInt(program.reserved_minor));
      assert.equal(ledger[`program:${programId}:budget`], -59000n);
    });

    it('when a statement shows a completed payment returned after the batch finished, then a journal reverses its completion and the budget gets the amount back', async () => {
      const order = orders.find((candidate) => candidate.status === 'completed')!;
      const completion = await db()('order_events').where({ order_id: order.id, to_status: 'completed' }).first();
      const disbursedBefore = BigInt((await db()('programs').where({ id: programId }).first()).disbursed_minor);
      const releasesBefore = (await journalsOf('benefit_funds_released', batchId)).length;

      const statement = ['booking_date,direction,amount,currency,end_to_end_id,rail_reference,reversal,reason_code', `${today()},credit,5.00,KES,${order.rail_key},RET-${order.rail_key},true,AC04`].join('\n');
      const treasury = apiClient(kassa.url, await kassa.issueKey('ministry-of-finance', ['treasury:write']));
      const imported = await treasury.call('POST', '/v1/statements?rail=sandbox', { rawBody: statement, headers: { 'content-type': 'text/csv' } });
      assert.equal(imported.status, 201, JSON.stringify(imported.body));
      assert.equal(imported.body.run.returned, 1);

      const [returned] = (await listOrderJournals(db(), order.id)).filter((journal) => journal.kind === 'benefit_returned');
      assert.ok(returned, 'the return is posted');
      assert.equal(returned.reversesJournalId, completion.journal_id, 'the return names the completion it reverses');
      assert.equal(returned.orderId, order.id);
      assert.deepEqual(returned.postings.map((posting) => [posting.account, posting.amountMinor]), [
        [`program:${programId}:reserved`, 500n],
        [`program:${programId}:disbursed`, -500n],
      ]);
      const program = await db()('programs').where({ id: programId }).first();
      assert.equal(BigInt(program.disbursed_minor), disbursedBefore - 500n);
      assert.equal(BigInt(program.reserved_minor), 0n);
      assert.equal(BigInt((await db()('batches').where({ id: batchId }).first()).disbursed_minor), disbursedBefore - 500n);
      const ledger = await balances();
      assert.equal(ledger[`program:${programId}:disbursed`], disbursedBefore - 500n);
      assert.equal(ledger[`program:${programId}:reserved`], 0n);
      assert.equal(ledger[`program:${programId}:budget`], -(disbursedBefore - 500n));
      const releases = await journalsOf('benefit_funds_released', batchId);
      assert.equal(releases.length, releasesBefore + 1, 'the returned amount is released with a journal of its own');
      assert.deepEqual(await postingsOf([releases.at(-1)!.id]), [[`program:${programId}:budget`, 500n], [`program:${programId}:reserved`, -500n]]);
    });
  });

  // A describe of its own, so that it runs after every movement above has been posted.
  describe('in the end', () => {
    it('when everything posted is added up, then every organisation’s postings sum to zero in each currency', async () => {
      const { rows } = (await db().raw(`SELECT organisation_id, currency, sum(amount_minor)::text AS total, count(*)::int AS postings FROM ledger_postings GROUP BY organisation_id, currency`)) as { rows: { total: string; postings: number }[] };
      assert.ok(rows.length > 0 && rows.some((row) => row.postings > 10));
      for (const row of rows) assert.equal(row.total, '0');
    });
  });
});
