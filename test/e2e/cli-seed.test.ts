import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { apiClient } from '../support/http.ts';
import { voucherNumberKey } from '../../src/config/index.ts';
import { hashVoucherNumber } from '../../src/domain/voucher.ts';
import { kassaCommand } from '../support/kassa-command.ts';
import { startTestKassa, type TestKassa } from '../support/kassa.ts';

const EXAMPLE = fileURLToPath(new URL('../../src/cli/seed-example.yaml', import.meta.url));
const EXAMPLE_KEY = 'kassa_training-only-agency-portal-key-0000000001';

function kassaSeed(file: string, databaseUrl: string) {
  return kassaCommand(['seed', file], { DATABASE_URL: databaseUrl, LOG_LEVEL: 'silent' });
}

describe('kassa seed (reference data from a file)', function () {
  this.timeout(120_000);
  let kassa: TestKassa;
  let directory: string;

  before(async () => {
    kassa = await startTestKassa({ backend: 'postgres', workers: false });
    directory = await mkdtemp(join(tmpdir(), 'kassa-seed-'));
  });
  after(async () => {
    await kassa?.stop();
    if (directory) await rm(directory, { recursive: true, force: true });
  });

  const db = () => kassa.runtime.context.db;
  const count = async (table: string) => Number(((await db()(table).count({ n: '*' }).first()) as { n: string }).n);

  it('when the example file is seeded, then everything in it exists, the fixed key works and the issued ones are printed once', async () => {
    const result = await kassaSeed(EXAMPLE, kassa.databaseUrl);

    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /organisations +3 created, 0 updated, 0 unchanged/);
    assert.match(result.stdout, /clients +6 created/);
    assert.match(result.stdout, /programs +1 created/);
    assert.match(result.stdout, /beneficiaries +2 created/);
    assert.match(result.stdout, /billers +1 created/);
    assert.match(result.stdout, /bills +2 created/);
    assert.match(result.stdout, /payer_institutions +1 created/);
    assert.match(result.stdout, /voucher_groups +1 created/);
    assert.match(result.stdout, /merchants +2 created/);
    assert.match(result.stdout, /vouchers +6 created/);
    const issued = [...result.stdout.matchAll(/API key for "([^"]+)" in "([^"]+)" \(shown only now\): (kassa_\S+)/g)];
    assert.deepEqual(issued.map((match) => match[1]).sort(), ['bill-payments', 'e-services', 'finance-officer', 'merchant:AGENT07'], 'a key is printed only for credentials the file gave none');
    const duka = await db()('merchants').where({ code: 'DUKA01' }).first();
    assert.deepEqual(duka.voucher_groups, ['FOOD']);
    const dukaClient = await db()('api_clients').where({ id: duka.api_client_id }).first();
    assert.deepEqual(dukaClient.scopes, ['vouchers:redeem']);
    assert.equal(dukaClient.name, 'merchant:DUKA01');

    const agency = apiClient(kassa.url, EXAMPLE_KEY);
    assert.equal((await agency.get('/v1/orders')).status, 200);
    const revenue = apiClient(kassa.url, issued.find((match) => match[1] === 'e-services')![3]!);
    assert.equal((await revenue.get('/v1/orders')).status, 200);

    const program = await db()('programs').where({ code: 'CT-2026' }).first();
    assert.equal(program.budget_minor, '5000000000');
    assert.equal(program.reserved_minor, '7500', 'the three usable vouchers block their amount; history blocks nothing');
    const blockedInLedger = await db()('ledger_postings').where({ account: `program:${program.id}:reserved` }).sum({ total: 'amount_minor' }).first();
    assert.equal(blockedInLedger?.total, '7500');
    const statuses = await db()('vouchers').orderBy('serial_number').pluck('status');
    assert.deepEqual(statuses, ['activated', 'pre_activated', 'suspended', 'redeemed', 'expired', 'cancelled']);
    const hashes = (await db()('vouchers').orderBy('serial_number').select(db().raw("encode(number_hash, 'hex') AS hash"))) as { hash: string }[];
    const key = voucherNumberKey(kassa.runtime.context.config);
    assert.deepEqual(hashes.map((row) => row.hash), ['1', '2', '3', '4', '5', '6'].map((last) => hashVoucherNumber(`400000000000000${last}`, key)), 'only a keyed hash of each number is kept');

    assert.equal(program.approval_threshold_minor, '100000000');
    assert.equal(program.is_default, true);
    const wallet = await db()('beneficiaries').where({ functional_id: 'NID-1000001' }).first();
    assert.equal(wallet.modality, '01');
    assert.equal(wallet.financial_address, '+254712345678');

    // The revenue authority runs no bill source: its register, loaded from the file, answers the bank's inquiry.
    const bank = issued.find((match) => match[1] === 'bill-payments')![3]!;
    const inquiry = await fetch(`${kassa.url}/bills/KRA-2026-000001`, {
      headers: { authorization: `Bearer ${bank}`, 'X-CorrelationID': 'seed-inquiry-1', 'X-Platform-TenantId': 'KE', 'X-PayerFI-Id': 'EQUITY' },
    });
    const answer = await inquiry.json() as { billDetails?: { billerId: string; amountonDueDate: number; amountAfterDueDate: number | null } };
    assert.equal(inquiry.status, 200, JSON.stringify(answer));
    assert.equal(answer.billDetails?.billerId, 'KRA');
    assert.equal(answer.billDetails?.amountonDueDate, 1500);
    assert.equal(answer.billDetails?.amountAfterDueDate, 1650);
    const unknown = await fetch(`${kassa.url}/bills/KRA-2026-999999`, {
      headers: { authorization: `Bearer ${bank}`, 'X-CorrelationID': 'seed-inquiry-2', 'X-Platform-TenantId': 'KE', 'X-PayerFI-Id': 'EQUITY' },
    });
    assert.equal(unknown.status, 404);
  });

  it('when the same file is seeded again, then nothing changes and no key is issued', async () => {
    const clientsBefore = await count('api_clients');
    const auditBefore = await count('audit_log');

    const result = await kassaSeed(EXAMPLE, kassa.databaseUrl);

    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /organisations +0 created, 0 updated, 3 unchanged/);
    assert.match(result.stdout, /clients +0 created, 0 updated, 6 unchanged/);
    assert.match(result.stdout, /voucher_groups +0 created, 0 updated, 1 unchanged/);
    assert.match(result.stdout, /merchants +0 created, 0 updated, 2 unchanged/);
    assert.match(result.stdout, /billers +0 created, 0 updated, 1 unchanged/);
    assert.match(result.stdout, /bills +0 created, 0 updated, 2 unchanged/);
    assert.match(result.stdout, /payer_institutions +0 created, 0 updated, 1 unchanged/);
    assert.match(result.stdout, /programs +0 created, 0 updated, 1 unchanged/);
    assert.match(result.stdout, /beneficiaries +0 created, 0 updated, 2 unchanged/);
    assert.doesNotMatch(result.stdout, /API key for/);
    assert.equal(await count('api_clients'), clientsBefore);
    assert.equal((await db()('programs').where({ code: 'CT-2026' }).first()).reserved_minor, '7500', 'the seeded vouchers are not blocked twice');
    assert.equal(await count('vouchers'), 6);
    assert.equal(await count('audit_log'), auditBefore);
  });

  it('when a seeded budget and an address change in the file, then those two are updated and the rest stays', async () => {
    const changed = (await readFile(EXAMPLE, 'utf8')).replace('budget: "50000000.00"', 'budget: "60000000.00"').replace('"+254712345678"', '"+254722000111"').replace('amount: "250.00"', 'amount: "275.00"');
    const file = join(directory, 'changed.yaml');
    await writeFile(file, changed);

    const result = await kassaSeed(file, kassa.databaseUrl);

    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /programs +0 created, 1 updated, 0 unchanged/);
    assert.match(result.stdout, /beneficiaries +0 created, 1 updated, 1 unchanged/);
    assert.match(result.stdout, /bills +0 created, 1 updated, 1 unchanged/);
    assert.equal((await db()('programs').where({ code: 'CT-2026' }).first()).budget_minor, '6000000000');
    assert.equal((await db()('beneficiaries').where({ functional_id: 'NID-1000001' }).first()).financial_address, '+254722000111');
  });

  it('when a merchant seeded with a fixed key redeems a voucher seeded activated, then the voucher is redeemed', async () => {
    const activated = await db()('vouchers').where({ status: 'activated' }).first();
    const redemption = await fetch(`${kassa.url}/vouchers?command=redeem`, {
      method: 'POST',
      headers: { authorization: 'Bearer kassa_training-only-merchant-duka01-key-000000001', 'content-type': 'application/json' },
      body: JSON.stringify({ requestID: 'seedredeem1', voucherSerialNumber: String(activated.serial_number), voucherSecretNumber: '4000000000000001' }),
    });
    assert.equal(redemption.status, 200, await redemption.text());
    assert.equal((await db()('vouchers').where({ serial_number: activated.serial_number }).first()).status, 'redeemed');
  });

  it('when a file has problems, then every one is named with its place and nothing is loaded', async () => {
    const file = join(directory, 'broken.yaml');
    await writeFile(file, [
      'organisations:',
      '  - name: new-agency',
      'programs:',
      '  - { organisation: nobody, code: P1, name: P, currency: KES, funding_account: { type: bank_account, value: "0011" }, budget: "1.001" }',
      'beneficiaries:',
      '  - { organisation: new-agency, registering_institution: R, functional_id: F1, modality: "09", financial_address: "+254700000000" }',
      '',
    ].join('\n'));
    const organisationsBefore = await count('organisations');

    const result = await kassaSeed(file, kassa.databaseUrl);

    assert.equal(result.code, 1);
    assert.match(result.stderr, /nothing was loaded/);
    assert.match(result.stderr, /programs\[0\]\.organisation: "nobody" is not among the file's organisations/);
    assert.match(result.stderr, /programs\[0\]\.budget: KES has 2 decimal places/);
    assert.match(result.stderr, /beneficiaries\[0\]: payment modality must be one of/);
    assert.equal(await count('organisations'), organisationsBefore);
  });

  it('when a file contradicts the deployment (a program changing currency), then the whole file is rolled back', async () => {
    const file = join(directory, 'contradicting.yaml');
    await writeFile(file, [
      'organisations:',
      '  - name: ministry-of-social-protection',
      '  - name: brand-new-agency',
      'programs:',
      '  - { organisation: ministry-of-social-protection, code: CT-2026, name: Cash transfers, currency: EUR, funding_account: { type: bank_account, value: "0011223344" }, budget: "10.00" }',
      '',
    ].join('\n'));

    const result = await kassaSeed(file, kassa.databaseUrl);

    assert.equal(result.code, 1);
    assert.match(result.stderr, /program CT-2026 of "ministry-of-social-protection" is in KES; a program's currency never changes/);
    assert.equal(await db()('organisations').where({ name: 'brand-new-agency' }).first(), undefined, 'the organisation the file also named was not created');
  });
});
