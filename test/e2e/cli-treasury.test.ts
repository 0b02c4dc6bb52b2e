import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixture } from '../fixtures/iso20022/support.ts';
import { startTestKassa, type TestKassa } from '../support/kassa.ts';
import { organisationIdOf, seedOrders } from '../support/seed-orders.ts';
import { kassaCommand } from '../support/kassa-command.ts';



describe('kassa statements import and kassa reconcile (the CLI over HTTP)', function () {
  this.timeout(120_000);
  let kassa: TestKassa;
  let directory: string;
  let admin: Record<string, string>;

  before(async () => {
    kassa = await startTestKassa({ backend: 'postgres', workers: false, env: { RECON_MISSING_AFTER_DAYS: '0' } });
    admin = { KASSA_URL: kassa.url, KASSA_API_KEY: await kassa.issueKey('ministry-of-finance', ['admin', 'treasury:write']) };
    directory = await mkdtemp(join(tmpdir(), 'kassa-cli-treasury-'));
  });
  after(async () => {
    await kassa?.stop();
    if (directory) await rm(directory, { recursive: true, force: true });
  });

  it('when a statement file is imported, then the run is printed, and importing it again counts nothing twice', async () => {
    await kassa.issueKey('pensions-agency', ['orders:read']); // the agency whose payments the statement shows
    const organisationId = await organisationIdOf(kassa.runtime.context.db, 'pensions-agency');
    await seedOrders(kassa.runtime.context.db, [{ organisationId, railKey: 'CLI0001', amountMinor: 2500n }, { organisationId, railKey: 'CLI0002', amountMinor: 1000n, status: 'failed' }]);
    const file = join(directory, 'statement.csv');
    await writeFile(file, [
      'booking_date,direction,amount,currency,end_to_end_id,rail_reference,counterparty',
      '2026-11-20,debit,25.00,EUR,CLI0001,B-1,Amani Wanjiru',
      '2026-11-20,debit,10.00,EUR,CLI0002,B-2,Jürgen Groß',
      '2026-11-20,credit,500.00,EUR,,B-3,Ministère des Finances',
      '',
    ].join('\n'));

    const first = await kassaCommand(['statements', 'import', file, '--rail', 'sandbox'], admin);
    const again = await kassaCommand(['statements', 'import', file, '--rail', 'sandbox'], admin);

    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /statement: +[0-9a-f-]{36} \(csv, sandbox, 3 lines, 2026-11-20 to 2026-11-20\)/);
    assert.match(first.stdout, /lines: +3, matched 1, with exceptions 2/);
    assert.match(first.stdout, /new exceptions: 2 — (unexpected_on_statement 1, status_mismatch 1|status_mismatch 1, unexpected_on_statement 1)/);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /imported before: nothing was stored or counted twice/);
  });

  it('when a file cannot be read, then the command names the line and exits 1', async () => {
    const file = join(directory, 'broken.sta');
    await writeFile(file, fixture('mt940-bad-amount.sta'));

    const result = await kassaCommand(['statements', 'import', file, '--rail', 'sandbox'], admin);
    const missing = await kassaCommand(['statements', 'import', join(directory, 'nope.csv')], admin);

    assert.equal(result.code, 1);
    assert.match(result.stderr, /HTTP 422, validation_failed/);
    assert.match(result.stderr, /file line 5: MT940 line 5: :61:/);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /ENOENT/);
  });

  it('when a rail is reconciled for a day, then its statement is pulled and reconciled', async () => {
    const result = await kassaCommand(['reconcile', '--rail', 'sandbox', '--date', '2026-11-20'], admin);
    const again = await kassaCommand(['reconcile', '--rail', 'sandbox', '--date', '2026-11-20'], admin);
    const wrong = await kassaCommand(['reconcile', '--rail', 'nowhere', '--date', '2026-11-20'], admin);

    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /statement: +[0-9a-f-]{36} \(rail, sandbox, \d+ lines, 2026-11-20 to 2026-11-20\)/);
    assert.match(result.stdout, /run: +[0-9a-f-]{36} completed/);
    assert.match(again.stdout, /imported before/);
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /rail: "nowhere" is not a rail of this deployment/);
  });
});
