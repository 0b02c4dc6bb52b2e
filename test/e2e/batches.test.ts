import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { apiClient } from '../support/http.ts';
import { eventually, startTestKassa, type TestKassa } from '../support/kassa.ts';

type Api = ReturnType<typeof apiClient>;

const FUNDING = { type: 'iban', value: 'GB82WEST12345698765432' };

function payment(index: number, overrides: Record<string, unknown> = {}) {
  return { instruction_id: `INS-${index}`, payee: { type: 'msisdn', value: `+2547123${String(index).padStart(5, '3')}` }, amount: '10.00', currency: 'KES', ...overrides };
}

function batchBody(payments: readonly Record<string, unknown>[], overrides: Record<string, unknown> = {}) {
  const totalCents = payments.reduce((sum, p) => sum + Math.round(Number(p.amount) * 100), 0);
  return {
    program: 'CHILD',
    control: { count: payments.length, totals: { KES: (totalCents / 100).toFixed(2) } },
    payments,
    ...overrides,
  };
}

async function batchReaching(api: Api, id: string, statuses: readonly string[]) {
  return eventually(async () => {
    const batch = await api.get(`/v1/batches/${id}`);
    return statuses.includes(batch.body.status) ? batch.body : undefined;
  }, { what: `batch ${id} to be ${statuses.join(' or ')}`, timeoutMs: 30_000 });
}

describe('batches over HTTP (Kassa-native /v1/batches)', function () {
  let kassa: TestKassa;
  let admin: Api;
  let maker: Api;
  let checker: Api;

  before(async function () {
    kassa = await startTestKassa({ backend: 'postgres', env: { BATCH_MONITOR_MS: '200', BATCH_CHUNK_ROWS: '50' } });
    admin = apiClient(kassa.url, await kassa.issueKey('agency', ['admin']));
    maker = apiClient(kassa.url, await kassa.issueKey('agency', ['benefits:write', 'orders:read']));
    checker = apiClient(kassa.url, await kassa.issueKey('agency', ['benefits:approve', 'orders:read']));
    const created = await admin.post('/v1/programs', { code: 'CHILD', name: 'Child grant', currency: 'KES', funding_account: FUNDING, budget: '100000.00', approval_threshold: '5000.00', default: true }, randomUUID());
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const strict = await admin.post('/v1/programs', { code: 'ELDER', name: 'Elder pension', currency: 'KES', funding_account: FUNDING, budget: '300.00', approval_threshold: '0' }, randomUUID());
    assert.equal(strict.status, 201, JSON.stringify(strict.body));
  });

  after(async function () {
    await kassa.stop();
  });

  it('when a batch under the approval threshold is submitted, then every payment is made and the budget shows it disbursed', async function () {
    const payments = Array.from({ length: 120 }, (_, index) => payment(index));
    const submitted = await maker.post('/v1/batches', batchBody(payments), randomUUID());
    assert.equal(submitted.status, 202, JSON.stringify(submitted.body));
    const done = await batchReaching(maker, submitted.body.id, ['completed']);
    assert.equal(done.payments.completed.count, 120);
    assert.equal(done.payments.completed.amount, '1200.00');
    assert.equal(done.funds.disbursed, '1200.00');
    assert.equal(done.funds.blocked, '0.00');
    const program = await admin.get('/v1/programs');
    const child = program.body.data.find((p: { code: string }) => p.code === 'CHILD');
    assert.equal(child.disbursed, '1200.00');
    assert.equal(child.blocked, '0.00');
    const { rows } = (await kassa.runtime.context.db.raw('SELECT rail_key FROM orders WHERE batch_id = ?', [submitted.body.id])) as { rows: { rail_key: string }[] };
    assert.equal(rows.length, 120);
    assert.deepEqual(new Set(rows.map((row) => kassa.simulator.executions(row.rail_key))), new Set([1]));
  });

  it('when the declared control sums do not match the payments, then the batch is refused and nothing is stored', async function () {
    const payments = [payment(1), payment(2)];
    const wrongCount = await maker.post('/v1/batches', batchBody(payments, { control: { count: 3, totals: { KES: '20.00' } } }), randomUUID());
    assert.equal(wrongCount.status, 422);
    assert.equal(wrongCount.body.code, 'control_sum_mismatch');
    assert.deepEqual(wrongCount.body.errors.map((e: { field: string }) => e.field), ['control.count']);
    const wrongTotal = await maker.post('/v1/batches', batchBody(payments, { control: { count: 2, totals: { KES: '20.01' } } }), randomUUID());
    assert.equal(wrongTotal.status, 422);
    assert.deepEqual(wrongTotal.body.errors.map((e: { field: string }) => e.field), ['control.totals.KES']);
    const { rows } = (await kassa.runtime.context.db.raw(`SELECT count(*)::int AS n FROM batches WHERE status <> 'completed'`)) as { rows: { n: number }[] };
    assert.equal(rows[0]!.n, 0);
  });

  it('when rows are wrong, unknown, repeated or in another currency, then each is reported with its reason and the rest are paid', async function () {
    const payments = [
      payment(701),
      payment(702, { amount: '1.234' }),
      payment(703, { payee: undefined, payee_identity: 'NID-NOBODY' }),
      payment(701),
      payment(705, { currency: 'UGX', amount: '100' }),
      payment(706, { payee: { type: 'msisdn', value: '+254700000000' } }),
    ];
    const body = { program: 'CHILD', control: { count: 6, totals: { KES: '40.00', UGX: '100' } }, payments };
    const submitted = await maker.post('/v1/batches', body, randomUUID());
    assert.equal(submitted.status, 202, JSON.stringify(submitted.body));
    const done = await batchReaching(maker, submitted.body.id, ['completed']);
    assert.equal(done.validation.valid, 2);
    assert.equal(done.validation.invalid, 4);
    assert.equal(done.payments.completed.count, 1);
    assert.equal(done.payments.failed.count, 1);
    const unpaid = await maker.get(`/v1/batches/${submitted.body.id}/payments?outcome=unpaid`);
    const reasons = Object.fromEntries(unpaid.body.data.map((row: { row: number; reason: { code: string } }) => [row.row, row.reason.code]));
    assert.deepEqual(reasons, { 2: 'invalid_amount', 3: 'unknown_beneficiary', 4: 'duplicate_in_batch', 5: 'currency_mismatch', 6: 'AC04' });
    const file = await maker.get(`/v1/batches/${submitted.body.id}/payments?outcome=unpaid&format=csv`);
    assert.match(file.contentType, /text\/csv/);
    const lines = String(file.body).trim().split('\n');
    assert.equal(lines.length, 6);
    assert.match(lines[0]!, /^row,instruction_id,payee_identity,amount,currency,outcome,reason_code/);
    assert.match(lines[5]!, /^6,INS-706,,10\.00,KES,failed,AC04,closed account/);
  });

  it('when a batch needs approval, then its maker cannot approve it, a checker can, and only then is it paid', async function () {
    const payments = Array.from({ length: 3 }, (_, index) => payment(100 + index, { amount: '100.00' }));
    const submitted = await maker.post('/v1/batches', batchBody(payments, { program: 'ELDER' }), randomUUID());
    const waiting = await batchReaching(maker, submitted.body.id, ['awaiting_approval']);
    assert.equal(waiting.validation.valid_total, '300.00');
    assert.equal(waiting.funds.blocked, '0.00');
    const makerBoth = apiClient(kassa.url, await kassa.issueKey('agency', ['benefits:write', 'benefits:approve', 'orders:read']));
    const self = await makerBoth.post('/v1/batches', batchBody([payment(200, { amount: '1.00' })], { program: 'ELDER' }), randomUUID());
    await batchReaching(makerBoth, self.body.id, ['awaiting_approval']);
    const selfApproval = await makerBoth.post(`/v1/batches/${self.body.id}/approve`, undefined, randomUUID());
    assert.equal(selfApproval.status, 403);
    assert.equal(selfApproval.body.code, 'maker_checker');
    const noScope = await maker.post(`/v1/batches/${submitted.body.id}/approve`, undefined, randomUUID());
    assert.equal(noScope.status, 403);
    const approved = await checker.post(`/v1/batches/${submitted.body.id}/approve`, undefined, randomUUID());
    assert.equal(approved.status, 200, JSON.stringify(approved.body));
    assert.equal(approved.body.funds.blocked, '300.00');
    const done = await batchReaching(maker, submitted.body.id, ['completed']);
    assert.equal(done.payments.completed.amount, '300.00');
    assert.equal(done.approval.approved_by !== null, true);
    const broke = await checker.post(`/v1/batches/${self.body.id}/approve`, undefined, randomUUID());
    assert.equal(broke.status, 409);
    assert.equal(broke.body.code, 'insufficient_funds');
    const still = await maker.get(`/v1/batches/${self.body.id}`);
    assert.equal(still.body.status, 'awaiting_approval');
  });

  it('when the same correlation id comes again, then the same batch answers for identical content and a conflict for other content', async function () {
    const key = randomUUID();
    const body = batchBody([payment(300), payment(301)]);
    const first = await maker.post('/v1/batches', body, key);
    const again = await maker.post('/v1/batches', body, key);
    assert.equal(again.status, 200);
    assert.equal(again.body.id, first.body.id);
    assert.equal(again.headers.get('idempotent-replayed'), 'true');
    const different = await maker.post('/v1/batches', batchBody([payment(300), payment(302)]), key);
    assert.equal(different.status, 409);
    assert.equal(different.body.code, 'correlation_id_reused');
    await batchReaching(maker, first.body.id, ['completed']);
  });

  it('when an instruction was paid by an earlier batch of the program, then a later batch does not pay it again', async function () {
    const first = await maker.post('/v1/batches', batchBody([payment(400)]), randomUUID());
    await batchReaching(maker, first.body.id, ['completed']);
    const second = await maker.post('/v1/batches', batchBody([payment(400), payment(401)]), randomUUID());
    const done = await batchReaching(maker, second.body.id, ['completed']);
    assert.equal(done.payments.completed.count, 1);
    const unpaid = await maker.get(`/v1/batches/${second.body.id}/payments?outcome=unpaid`);
    assert.deepEqual(unpaid.body.data.map((row: { instruction_id: string; reason: { code: string } }) => [row.instruction_id, row.reason.code]), [['INS-400', 'already_paid']]);
  });

  it('when two batches of a program carry the same instructions at the same time, then each instruction is paid once', async function () {
    const payments = Array.from({ length: 200 }, (_, index) => payment(800 + index));
    const [first, second] = await Promise.all([
      maker.post('/v1/batches', batchBody(payments), randomUUID()),
      maker.post('/v1/batches', batchBody(payments), randomUUID()),
    ]);
    assert.notEqual(first.body.id, second.body.id);
    const [a, b] = await Promise.all([batchReaching(maker, first.body.id, ['completed']), batchReaching(maker, second.body.id, ['completed'])]);
    assert.equal(a.payments.completed.count + b.payments.completed.count, 200);
    const { rows } = (await kassa.runtime.context.db.raw(
      `SELECT count(*)::int AS orders, count(DISTINCT metadata->>'instruction_id')::int AS instructions FROM orders WHERE batch_id IN (?, ?)`, [first.body.id, second.body.id])) as { rows: { orders: number; instructions: number }[] };
    assert.deepEqual(rows[0], { orders: 200, instructions: 200 });
  });

  it('when a scheduled batch is cancelled, then nothing is paid and its blocked funds return to the program', async function () {
    const before = (await admin.get('/v1/programs')).body.data.find((p: { code: string }) => p.code === 'CHILD');
    const later = new Date(Date.now() + 60 * 60 * 1000).toISOString();
    const submitted = await maker.post('/v1/batches', batchBody([payment(500, { amount: '50.00' })], { execute_at: later }), randomUUID());
    const scheduled = await batchReaching(maker, submitted.body.id, ['scheduled']);
    assert.equal(scheduled.funds.blocked, '50.00');
    const blocked = (await admin.get('/v1/programs')).body.data.find((p: { code: string }) => p.code === 'CHILD');
    assert.equal(Number(blocked.blocked) - Number(before.blocked), 50);
    const cancelled = await maker.post(`/v1/batches/${submitted.body.id}/cancel`, undefined, randomUUID());
    assert.equal(cancelled.status, 200, JSON.stringify(cancelled.body));
    assert.equal(cancelled.body.status, 'cancelled');
    const after = (await admin.get('/v1/programs')).body.data.find((p: { code: string }) => p.code === 'CHILD');
    assert.equal(after.blocked, before.blocked);
    const again = await maker.post(`/v1/batches/${submitted.body.id}/cancel`, undefined, randomUUID());
    assert.equal(again.status, 409);
  });

  it('when a CSV file is uploaded, then it is read row by row and paid like any batch', async function () {
    const header = 'id,request_id,payment_mode,payer_identifier_type,payer_identifier,payee_identifier_type,payee_identifier,amount,currency,note';
    const lines = Array.from({ length: 40 }, (_, index) => `${index + 1},CSV-${index},gsma,,,MSISDN,+2547198${String(index).padStart(5, '5')},2.50,KES,grant`);
    const response = await maker.call('POST', '/v1/batches?program=CHILD&control_count=40&control_total=KES:100.00', {
      rawBody: `${header}\n${lines.join('\n')}\n`, idempotencyKey: randomUUID(), headers: { 'content-type': 'text/csv' },
    });
    assert.equal(response.status, 202, JSON.stringify(response.body));
    const done = await batchReaching(maker, response.body.id, ['completed']);
    assert.equal(done.payments.completed.amount, '100.00');
    const malformed = await maker.call('POST', '/v1/batches?program=CHILD&control_count=1&control_total=KES:1.00', {
      rawBody: 'name,amount\nx,1.00\n', idempotencyKey: randomUUID(), headers: { 'content-type': 'text/csv' },
    });
    assert.equal(malformed.status, 422);
    assert.equal(malformed.body.errors[0].field, 'file line 1');
  });

  it('when another organisation asks for a batch, then it does not exist for them', async function () {
    const submitted = await maker.post('/v1/batches', batchBody([payment(600)]), randomUUID());
    const stranger = apiClient(kassa.url, await kassa.issueKey('another-agency', ['orders:read', 'benefits:approve']));
    assert.equal((await stranger.get(`/v1/batches/${submitted.body.id}`)).status, 404);
    assert.equal((await stranger.post(`/v1/batches/${submitted.body.id}/approve`, undefined, randomUUID())).status, 404);
    await batchReaching(maker, submitted.body.id, ['completed']);
  });
});
