import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { apiClient } from '../support/http.ts';
import { eventually, startTestKassa, type TestKassa } from '../support/kassa.ts';
import { kassaCommand, type CommandResult } from '../support/kassa-command.ts';

const HEADER = 'id,request_id,payment_mode,payer_identifier_type,payer_identifier,payee_identifier_type,payee_identifier,amount,currency,note';
const FUNDING = { type: 'iban', value: 'GB82WEST12345698765432' };
const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';


/** Rows of 1.25 to 7.25 KES; the payees of the rows in `closed` end in 0000, which the sandbox rail declines (AC04). */
function batchFile(rows: number, prefix: string, closed: readonly number[] = []): { text: string; totalCents: bigint; closedCents: bigint } {
  let totalCents = 0n;
  let closedCents = 0n;
  const lines = Array.from({ length: rows }, (_, index) => {
    const cents = BigInt((index % 7) + 1) * 100n + 25n;
    totalCents += cents;
    const msisdn = closed.includes(index) ? `+25471${String(index).padStart(3, '0')}0000` : `+2547${String(index).padStart(8, '1')}`;
    if (closed.includes(index)) closedCents += cents;
    return `${index + 1},${prefix}-${index},gsma,,,MSISDN,${msisdn},${cents / 100n}.${String(cents % 100n).padStart(2, '0')},KES,child grant`;
  });
  return { text: `${HEADER}\n${lines.join('\n')}\n`, totalCents, closedCents };
}

const kes = (cents: bigint) => `KES ${cents / 100n}.${String(cents % 100n).padStart(2, '0')}`;

describe('kassa batch (the CLI over HTTP)', function () {
  let kassa: TestKassa;
  let directory: string;
  let maker: Record<string, string>;
  let checker: Record<string, string>;
  let makerApi: ReturnType<typeof apiClient>;

  before(async function () {
    kassa = await startTestKassa({ backend: 'postgres', env: { BATCH_MONITOR_MS: '200', BATCH_CHUNK_ROWS: '100' } });
    const admin = apiClient(kassa.url, await kassa.issueKey('agency', ['admin']));
    for (const program of [
      { code: 'CHILD', name: 'Child grant', currency: 'KES', funding_account: FUNDING, budget: '100000.00', approval_threshold: '5000.00' },
      { code: 'ELDER', name: 'Elder pension', currency: 'KES', funding_account: FUNDING, budget: '10000.00', approval_threshold: '0' },
    ]) {
      const created = await admin.post('/v1/programs', program, randomUUID());
      assert.equal(created.status, 201, JSON.stringify(created.body));
    }
    const makerKey = await kassa.issueKey('agency', ['benefits:write', 'orders:read']);
    makerApi = apiClient(kassa.url, makerKey);
    maker = { KASSA_URL: kassa.url, KASSA_API_KEY: makerKey };
    checker = { KASSA_URL: kassa.url, KASSA_API_KEY: await kassa.issueKey('agency', ['benefits:approve', 'orders:read']) };
    directory = await mkdtemp(join(tmpdir(), 'kassa-cli-batches-'));
  });

  after(async function () {
    await kassa?.stop();
    if (directory) await rm(directory, { recursive: true, force: true });
  });

  describe('when an agency submits a file of 300 payments, 3 of them to closed accounts', function () {
    const closed = [17, 150, 299];
    const file = batchFile(300, 'NOV', closed);
    let path: string;
    let first: CommandResult;
    let batchId: string;

    before(async function () {
      path = join(directory, 'november.csv');
      await writeFile(path, file.text);
      first = await kassaCommand(['batch', 'submit', path, '--program', 'CHILD'], maker);
      batchId = new RegExp(`^batch: +(${UUID})`, 'm').exec(first.stdout)?.[1] ?? '';
    });

    it('then the command waits for the payments, prints what was paid and what was not, and exits 0', function () {
      assert.equal(first.code, 0, first.stderr);
      assert.ok(batchId, `a batch id in: ${first.stdout}`);
      const paid = file.totalCents - file.closedCents;
      assert.match(first.stdout, /^file: +november\.csv — 300 rows, KES \d+\.\d\d$/m);
      assert.match(first.stdout, new RegExp(`^file: .*${kes(file.totalCents)}$`, 'm'));
      assert.match(first.stdout, /^status: +completed$/m);
      assert.match(first.stdout, new RegExp(`^paid: +297 payments, ${kes(paid)}$`, 'm'));
      assert.match(first.stdout, new RegExp(`^failed: +3 payments, ${kes(file.closedCents)}$`, 'm'));
      assert.match(first.stdout, /^invalid: +0 rows$/m);
      assert.match(first.stdout, new RegExp(`^not paid: +3 rows, ${kes(file.closedCents)} — the list: kassa batch failures ${batchId} --csv$`, 'm'));
      assert.ok(!first.stderr.includes('\u001b['), 'no terminal control characters when stderr is not a terminal');
    });

    it('then the correlation id printed is the sha256 of the program and the file', function () {
      const expected = createHash('sha256').update('kassa-batch\0CHILD\0').update(file.text).digest('hex');
      assert.match(first.stdout, new RegExp(`^correlation id: ${expected}`, 'm'));
    });

    it('when the same command runs again, then it finds the same batch and nothing is paid twice', async function () {
      const before = (await makerApi.get('/v1/batches?limit=200')).body.data.length;
      const again = await kassaCommand(['batch', 'submit', path, '--program', 'CHILD'], maker);
      assert.equal(again.code, 0, again.stderr);
      assert.match(again.stdout, new RegExp(`^batch: +${batchId} \\(submitted earlier under this correlation id`, 'm'));
      assert.match(again.stdout, /^paid: +297 payments/m);
      const listed = await makerApi.get('/v1/batches?limit=200');
      assert.equal(listed.status, 200);
      assert.equal(listed.body.data.length, before, 'no second batch');
      const mine = listed.body.data.filter((batch: { correlation_id: string }) => batch.correlation_id === /^correlation id: (\S+)/m.exec(first.stdout)?.[1]);
      assert.deepEqual(mine.map((batch: { id: string }) => batch.id), [batchId]);
      const { rows } = (await kassa.runtime.context.db.raw('SELECT count(*)::int AS n FROM orders WHERE batch_id = ?', [batchId])) as { rows: { n: number }[] };
      assert.equal(rows[0]!.n, 300);
    });

    it('then `batch status --json` gives the batch as the API shows it, and `batch status` a summary', async function () {
      const json = await kassaCommand(['batch', 'status', batchId, '--json'], maker);
      assert.equal(json.code, 0, json.stderr);
      const batch = JSON.parse(json.stdout);
      assert.equal(batch.id, batchId);
      assert.equal(batch.status, 'completed');
      assert.equal(batch.rows, 300);
      assert.deepEqual(batch.payments.failed, { count: 3, amount: kes(file.closedCents).slice(4) });
      assert.equal(batch.funds.disbursed, kes(file.totalCents - file.closedCents).slice(4));
      const text = await kassaCommand(['batch', 'status', batchId, '--url', kassa.url], { KASSA_API_KEY: maker.KASSA_API_KEY! });
      assert.equal(text.code, 0, text.stderr);
      assert.match(text.stdout, new RegExp(`^batch ${batchId}: completed$`, 'm'));
      assert.match(text.stdout, /^ {2}completed +297 +KES /m);
      assert.match(text.stdout, new RegExp(`^ {2}failed +3 +${kes(file.closedCents)}$`, 'm'));
      assert.match(text.stdout, /^ {2}funds +blocked KES 0\.00, disbursed KES /m);
    });

    it('then `batch failures --csv` lists exactly the rows to closed accounts, with reason AC04', async function () {
      const listed = await kassaCommand(['batch', 'failures', batchId, '--csv'], maker);
      assert.equal(listed.code, 0, listed.stderr);
      const records = parse(listed.stdout, { columns: true }) as Record<string, string>[];
      assert.deepEqual(records.map((record) => record.instruction_id), closed.map((index) => `NOV-${index}`));
      assert.deepEqual(new Set(records.map((record) => `${record.outcome} ${record.reason_code}`)), new Set(['failed AC04']));
      const output = join(directory, 'november-failures.csv');
      const written = await kassaCommand(['batch', 'failures', batchId, '--csv', '--output', output], maker);
      assert.equal(written.code, 0, written.stderr);
      assert.equal(await readFile(output, 'utf8'), listed.stdout);
    });
  });

  it('when the program is unknown, then the command exits non-zero with the problem the API answered', async function () {
    const path = join(directory, 'unknown.csv');
    await writeFile(path, batchFile(400, 'UNK').text);
    const result = await kassaCommand(['batch', 'submit', path, '--program', 'NOPE'], maker);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^kassa: the organisation has no program NOPE \(HTTP 422, unknown_program\)$/m);
    assert.match(result.stderr, /^ {2}program: unknown program$/m);
    assert.doesNotMatch(result.stdout, /^batch:/m);
  });

  it('when no row of the file has an amount Kassa can take, then the command refuses before uploading anything', async function () {
    const path = join(directory, 'altered.csv');
    await writeFile(path, `${HEADER}\n1,ALT-1,gsma,,,MSISDN,+254712345678,1.234,KES,x\n`);
    const before = (await makerApi.get('/v1/batches?limit=200')).body.data.length;
    const result = await kassaCommand(['batch', 'submit', path, '--program', 'CHILD', '--no-wait'], maker);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^kassa: .*altered\.csv: no row has a valid amount and currency$/m);
    assert.equal((await makerApi.get('/v1/batches?limit=200')).body.data.length, before);
  });

  it('when a batch needs approval, then submit says who must approve and exits 0, and a checker approves it with `batch approve`', async function () {
    const path = join(directory, 'elder.csv');
    const file = batchFile(20, 'ELD');
    await writeFile(path, file.text);
    const submitted = await kassaCommand(['batch', 'submit', path, '--program', 'ELDER'], maker);
    assert.equal(submitted.code, 0, submitted.stderr);
    assert.match(submitted.stdout, /^status: +awaiting_approval$/m);
    const batchId = new RegExp(`^batch: +(${UUID})`, 'm').exec(submitted.stdout)![1]!;
    assert.match(submitted.stdout, new RegExp(`benefits:approve scope, not the one that submitted it\\) must run: kassa batch approve ${batchId}$`, 'm'));
    const bySubmitter = await kassaCommand(['batch', 'approve', batchId], maker);
    assert.equal(bySubmitter.code, 1);
    assert.match(bySubmitter.stderr, /insufficient_scope/);
    const approved = await kassaCommand(['batch', 'approve', batchId], checker);
    assert.equal(approved.code, 0, approved.stderr);
    assert.match(approved.stdout, new RegExp(`^batch ${batchId} approved: \\w+, ${kes(file.totalCents)} blocked`, 'm'));
    const again = await kassaCommand(['batch', 'approve', batchId], checker);
    assert.equal(again.code, 0, `approving again replays the approval: ${again.stderr}`);
    await eventually(async () => ((await makerApi.get(`/v1/batches/${batchId}`)).body.status === 'completed' ? true : undefined), { timeoutMs: 30_000 });
  });

  it('when no API key is given, then the command stops at once naming KASSA_API_KEY', async function () {
    const result = await kassaCommand(['batch', 'status', randomUUID()], { KASSA_URL: kassa.url });
    assert.equal(result.code, 78);
    assert.match(result.stderr, /KASSA_API_KEY/);
  });
});
