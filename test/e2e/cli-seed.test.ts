import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { apiClient } from '../support/http.ts';
import { recordSandboxSimulator } from '../../src/cli/sandbox-record.ts';
import { voucherNumberKey } from '../../src/config/index.ts';
import { hashVoucherNumber } from '../../src/domain/voucher.ts';
import { kassaCommand } from '../support/kassa-command.ts';
import { orderReaching, startTestKassa, type TestKassa } from '../support/kassa.ts';
import { freePort } from '../support/ports.ts';

const EXAMPLE = fileURLToPath(new URL('../../src/cli/seed-example.yaml', import.meta.url));
const EXAMPLE_KEY = 'kassa_training-only-agency-portal-key-0000000001';
const DUKA = { type: 'msisdn', value: '+254733000011' } as const;
const AGENT = { type: 'msisdn', value: '+254733000007' } as const;
/** A mobile-money operator the seed's routing sends msisdn accounts to; nothing is ever sent to it. */
const OPERATOR_RAIL: Record<string, string> = {
  RAILS: 'gsma-mobile-money,sandbox',
  RAIL_GSMA_MOBILE_MONEY_BASE_URL: 'http://127.0.0.1:1/mm/v1.2',
  RAIL_GSMA_MOBILE_MONEY_CLIENT_ID: 'seed-test',
  RAIL_GSMA_MOBILE_MONEY_CLIENT_SECRET: 'seed-test-secret',
  RAIL_GSMA_MOBILE_MONEY_CALLBACK_SECRET: 'seed-test-callback-secret',
  RAIL_GSMA_MOBILE_MONEY_DISBURSEMENT_ACCOUNT: 'walletid:GOV-DISBURSEMENTS',
  RAIL_GSMA_MOBILE_MONEY_COLLECTION_ACCOUNT: 'walletid:GOV-COLLECTIONS',
  RAIL_GSMA_MOBILE_MONEY_CURRENCIES: 'KES',
};

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

  /** The seed as an operator runs it against this suite's Kassa, its sandbox rail named by SANDBOX_RAIL_URL unless `env` says otherwise. */
  const kassaSeed = (file: string, env: Record<string, string | undefined> = {}) => {
    const merged: Record<string, string | undefined> = { DATABASE_URL: kassa.databaseUrl, LOG_LEVEL: 'silent', SANDBOX_RAIL_URL: kassa.simulator.url, ...env };
    return kassaCommand(['seed', file], Object.fromEntries(Object.entries(merged).filter((entry): entry is [string, string] => entry[1] !== undefined)));
  };
  const db = () => kassa.runtime.context.db;
  /** A seed file of one organisation and its merchants, each given as the inside of a YAML flow mapping. */
  const merchantsFile = async (name: string, organisation: string, merchants: readonly string[]) => {
    const file = join(directory, `${name}.yaml`);
    await writeFile(file, ['organisations:', `  - name: ${organisation}`, 'merchants:', ...merchants.map((merchant) => `  - { organisation: ${organisation}, ${merchant} }`), ''].join('\n'));
    return file;
  };
  const count = async (table: string) => Number(((await db()(table).count({ n: '*' }).first()) as { n: string }).n);

  it('when the example file is seeded, then everything in it exists, the fixed key works and the issued ones are printed once', async () => {
    const result = await kassaSeed(EXAMPLE);

    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /organisations +3 created, 0 updated, 0 unchanged/);
    assert.match(result.stdout, /clients +6 created/);
    assert.match(result.stdout, /programs +1 created/);
    assert.match(result.stdout, /beneficiaries +2 created/);
    assert.match(result.stdout, /billers +1 created/);
    assert.match(result.stdout, /bills +2 created/);
    assert.match(result.stdout, /payer_institutions +1 created/);
    assert.match(result.stdout, /voucher_groups +1 created/);
    assert.match(result.stdout, /merchants +3 created/);
    assert.match(result.stdout, /vouchers +6 created/);
    assert.match(result.stdout, new RegExp(`rail balance of DUKA01 in "ministry-of-social-protection": 1000\\.00 KES, set on the sandbox rail at ${kassa.simulator.url}`));
    assert.match(result.stdout, /rail balance of AGENT07 in "ministry-of-social-protection": 50000\.00 KES, set/);
    assert.equal(kassa.simulator.balance(DUKA, 'KES'), 100_000n);
    assert.equal(kassa.simulator.balance(AGENT, 'KES'), 5_000_000n);
    const read = await fetch(`${kassa.simulator.url}/v1/accounts/msisdn/${encodeURIComponent(DUKA.value)}/balance?currency=KES`);
    assert.deepEqual(await read.json(), { type: 'msisdn', value: DUKA.value, currency: 'KES', balance_minor: '100000' });
    const issued = [...result.stdout.matchAll(/API key for "([^"]+)" in "([^"]+)" \(shown only now\): (kassa_\S+)/g)];
    assert.deepEqual(issued.map((match) => match[1]).sort(), ['bill-payments', 'e-services', 'finance-officer', 'merchant:AGENT07'], 'a key is printed only for credentials the file gave none');
    const duka = await db()('merchants').where({ code: 'DUKA01' }).first();
    assert.deepEqual(duka.voucher_groups, ['FOOD']);
    const forBiller = await db()('merchants').where({ code: 'KRA-VCH' }).first();
    assert.equal(forBiller.biller_id, (await db()('billers').where({ code: 'KRA' }).first()).id, 'the merchant stands for the biller the file names');
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
    const serials = (await db()('vouchers').orderBy('serial_number').pluck('serial_number')) as string[];
    assert.equal(serials[0], '5000000001', 'the serial number the file fixes');
    assert.ok(serials.slice(1).every((serial) => BigInt(serial) > 5_000_000_001n), 'the others come after it, as every voucher issued later will');
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

    const result = await kassaSeed(EXAMPLE);

    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /organisations +0 created, 0 updated, 3 unchanged/);
    assert.match(result.stdout, /clients +0 created, 0 updated, 6 unchanged/);
    assert.match(result.stdout, /voucher_groups +0 created, 0 updated, 1 unchanged/);
    assert.match(result.stdout, /merchants +0 created, 0 updated, 3 unchanged/);
    assert.match(result.stdout, /billers +0 created, 0 updated, 1 unchanged/);
    assert.match(result.stdout, /bills +0 created, 0 updated, 2 unchanged/);
    assert.match(result.stdout, /payer_institutions +0 created, 0 updated, 1 unchanged/);
    assert.match(result.stdout, /programs +0 created, 0 updated, 1 unchanged/);
    assert.match(result.stdout, /beneficiaries +0 created, 0 updated, 2 unchanged/);
    assert.doesNotMatch(result.stdout, /API key for/);
    assert.match(result.stdout, /rail balance of DUKA01 in "ministry-of-social-protection": 1000\.00 KES, set/);
    assert.equal(kassa.simulator.balance(DUKA, 'KES'), 100_000n, 'the same figure, not added again');
    assert.equal(kassa.simulator.balance(AGENT, 'KES'), 5_000_000n);
    assert.equal(await count('api_clients'), clientsBefore);
    assert.equal((await db()('programs').where({ code: 'CT-2026' }).first()).reserved_minor, '7500', 'the seeded vouchers are not blocked twice');
    assert.equal(await count('vouchers'), 6);
    assert.equal(await count('audit_log'), auditBefore);
  });

  it('when a seeded budget and an address change in the file, then those two are updated and the rest stays', async () => {
    const changed = (await readFile(EXAMPLE, 'utf8')).replace('budget: "50000000.00"', 'budget: "60000000.00"').replace('"+254712345678"', '"+254722000111"').replace('amount: "250.00"', 'amount: "275.00"');
    const file = join(directory, 'changed.yaml');
    await writeFile(file, changed);

    const result = await kassaSeed(file);

    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /programs +0 created, 1 updated, 0 unchanged/);
    assert.match(result.stdout, /beneficiaries +0 created, 1 updated, 1 unchanged/);
    assert.match(result.stdout, /bills +0 created, 1 updated, 1 unchanged/);
    assert.equal((await db()('programs').where({ code: 'CT-2026' }).first()).budget_minor, '6000000000');
    assert.equal((await db()('beneficiaries').where({ functional_id: 'NID-1000001' }).first()).financial_address, '+254722000111');
  });

  it('when a merchant seeded with a fixed key redeems a voucher seeded activated, then the voucher is redeemed and its payout credits the seeded rail balance', async () => {
    assert.equal(kassa.simulator.balance(DUKA, 'KES'), 100_000n);
    const activated = await db()('vouchers').where({ status: 'activated' }).first();
    const redemption = await fetch(`${kassa.url}/vouchers?command=redeem`, {
      method: 'POST',
      headers: { authorization: 'Bearer kassa_training-only-merchant-duka01-key-000000001', 'content-type': 'application/json' },
      body: JSON.stringify({ requestID: 'seedredeem1', voucherSerialNumber: String(activated.serial_number), voucherSecretNumber: '4000000000000001' }),
    });
    const answer = await redemption.json() as { transactionId: string };
    assert.equal(redemption.status, 200, JSON.stringify(answer));
    assert.equal((await db()('vouchers').where({ serial_number: activated.serial_number }).first()).status, 'redeemed');

    await kassa.startWorkers();
    const payout = await orderReaching(apiClient(kassa.url, EXAMPLE_KEY), answer.transactionId, 'completed');

    assert.equal(payout.rail, 'sandbox');
    assert.equal(kassa.simulator.balance(DUKA, 'KES'), 100_000n + 2_500n, 'the 25.00 payout is added to the seeded 1000.00');
    assert.equal(kassa.simulator.balance(AGENT, 'KES'), 5_000_000n, 'another account is untouched');
  });

  it('when the sandbox simulator cannot be reached, then the seed says so for each balance and exits 1, and the database part is applied', async () => {
    const closedPort = await freePort();
    const file = await merchantsFile('unreachable', 'unreachable-agency', [
      'code: SHOP1, name: Shop one, kind: merchant, account: { type: msisdn, value: "+254733000041" }, rail_balance: { amount: "10.00", currency: KES }',
      'code: SHOP2, name: Shop two, kind: agent, account: { type: msisdn, value: "+254733000042" }, rail_balance: { amount: "20.00", currency: KES }',
    ]);

    const result = await kassaSeed(file, { SANDBOX_RAIL_URL: `http://127.0.0.1:${closedPort}` });

    assert.equal(result.code, 1);
    const unreachable = `the sandbox rail simulator at http://127.0.0.1:${closedPort} cannot be reached (ECONNREFUSED); found by SANDBOX_RAIL_URL: start Kassa, or set SANDBOX_RAIL_URL to the simulator's address`;
    assert.ok(result.stdout.includes(`rail balance of SHOP1 in "unreachable-agency": 10.00 KES NOT set: ${unreachable}`), result.stdout);
    assert.ok(result.stdout.includes(`rail balance of SHOP2 in "unreachable-agency": 20.00 KES NOT set: ${unreachable}`), result.stdout);
    assert.match(result.stderr, /kassa: 2 of 2 rail balance\(s\) not set \(see above\); the rest of .*unreachable\.yaml is applied/);
    assert.match(result.stdout, /merchants +2 created, 0 updated, 0 unchanged/);
    assert.equal((await db()('merchants').whereIn('code', ['SHOP1', 'SHOP2'])).length, 2, 'the database part stays applied');

    const again = await kassaSeed(file);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /merchants +0 created, 0 updated, 2 unchanged/);
    assert.equal(kassa.simulator.balance({ type: 'msisdn', value: '+254733000042' }, 'KES'), 2_000n, 'running again once the simulator is there sets the balances');
  });

  it('when no simulator is named, then the seed finds the one a running kassa start recorded in its data folder, and ignores a record its dead owner left', async () => {
    const dataDir = join(directory, 'data');
    await recordSandboxSimulator(dataDir, kassa.simulator.url);
    const account = { type: 'msisdn', value: '+254733000051' } as const;
    kassa.simulator.setBalance(account, 'KES', 1n);
    const closedPort = await freePort();
    const file = await merchantsFile('found', 'finding-agency', [`code: FOUND1, name: Found, kind: merchant, account: { type: msisdn, value: "${account.value}" }, rail_balance: { amount: "300.00", currency: KES }`]);

    const found = await kassaSeed(file, { SANDBOX_RAIL_URL: undefined, KASSA_DATA_DIR: dataDir, SANDBOX_SIMULATOR_PORT: String(closedPort) });

    assert.equal(found.code, 0, found.stderr);
    assert.ok(found.stdout.includes(`rail balance of FOUND1 in "finding-agency": 300.00 KES, set on the sandbox rail at ${kassa.simulator.url}`), found.stdout);
    assert.equal(kassa.simulator.balance(account, 'KES'), 30_000n, 'the seed puts back the file\'s figure');

    const gone = spawnSync(process.execPath, ['-e', '']).pid;
    await writeFile(join(dataDir, 'sandbox-rail.json'), JSON.stringify({ pid: gone, url: kassa.simulator.url }));
    const stale = await kassaSeed(file, { SANDBOX_RAIL_URL: undefined, KASSA_DATA_DIR: dataDir, SANDBOX_SIMULATOR_PORT: String(closedPort) });

    assert.equal(stale.code, 1);
    assert.ok(stale.stdout.includes(`cannot be reached (ECONNREFUSED); found by SANDBOX_SIMULATOR_PORT, where \`kassa start\` and \`kassa simulator\` listen`), stale.stdout);
    assert.ok(stale.stdout.includes(`at http://127.0.0.1:${closedPort} `), stale.stdout);
  });

  it('when a merchant\'s account is paid by another rail, then its balance is not set and the seed says why and exits 1, while sandbox accounts get theirs, zero included', async () => {
    const file = await merchantsFile('other-rail', 'rail-agency', [
      'code: WALLET1, name: Wallet shop, kind: merchant, account: { type: msisdn, value: "+254733000021" }, rail_balance: { amount: "10.00", currency: KES }',
      'code: BANK1, name: Bank shop, kind: agent, account: { type: bank_account, value: "5500112233" }, rail_balance: { amount: "0", currency: KES }',
    ]);
    kassa.simulator.setBalance({ type: 'bank_account', value: '5500112233' }, 'KES', 777n);

    const result = await kassaSeed(file, OPERATOR_RAIL);

    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stdout, /rail balance of WALLET1 in "rail-agency": 10\.00 KES NOT set: payments to this account go by rail "gsma-mobile-money", whose balances Kassa cannot set; only the sandbox rail's simulator takes them/);
    assert.match(result.stdout, /rail balance of BANK1 in "rail-agency": 0\.00 KES, set on the sandbox rail/);
    assert.match(result.stderr, /1 of 2 rail balance\(s\) not set/);
    assert.equal(kassa.simulator.balance({ type: 'bank_account', value: '5500112233' }, 'KES'), 0n);
    assert.equal(kassa.simulator.balance({ type: 'msisdn', value: '+254733000021' }, 'KES'), undefined, 'nothing was set on the sandbox for the wallet');
    assert.match(result.stdout, /merchants +2 created/);
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
      'merchants:',
      '  - { organisation: new-agency, code: M1, name: M, kind: merchant, account: { type: msisdn, value: "+254733000031" }, rail_balance: { amount: "1.001", currency: KES } }',
      '  - { organisation: new-agency, code: M2, name: M, kind: merchant, account: { type: msisdn, value: "+254733000032" }, rail_balance: { amount: "1.00", currency: XYZ } }',
      '  - { organisation: new-agency, code: M3, name: M, kind: merchant, account: { type: msisdn, value: "+254733000033" }, biller: NOBILLER }',
      '',
    ].join('\n'));
    const organisationsBefore = await count('organisations');

    const result = await kassaSeed(file);

    assert.equal(result.code, 1);
    assert.match(result.stderr, /nothing was loaded/);
    assert.match(result.stderr, /programs\[0\]\.organisation: "nobody" is not among the file's organisations/);
    assert.match(result.stderr, /programs\[0\]\.budget: KES has 2 decimal places/);
    assert.match(result.stderr, /beneficiaries\[0\]: payment modality must be one of/);
    assert.match(result.stderr, /merchants\[0\]\.rail_balance\.amount: KES has 2 decimal places; "1\.001" has 3/);
    assert.match(result.stderr, /merchants\[1\]\.rail_balance\.currency: "XYZ" is not an ISO 4217 currency code/);
    assert.match(result.stderr, /merchants\[2\]\.biller: there is no biller NOBILLER in the file/);
    assert.doesNotMatch(result.stdout, /rail balance of/);
    assert.equal(await count('organisations'), organisationsBefore);
  });

  it('when a rail balance is negative, then the seed names it and loads nothing', async () => {
    const file = await merchantsFile('negative', 'negative-agency', ['code: NEG1, name: Negative, kind: merchant, account: { type: msisdn, value: "+254733000061" }, rail_balance: { amount: "-5.00", currency: KES }']);

    const result = await kassaSeed(file);

    assert.equal(result.code, 1);
    assert.match(result.stderr, /merchants\[0\]\.rail_balance\.amount: must be a decimal string in major units/);
    assert.equal(await db()('organisations').where({ name: 'negative-agency' }).first(), undefined);
    assert.equal(kassa.simulator.balance({ type: 'msisdn', value: '+254733000061' }, 'KES'), undefined);
  });

  it('when a fixed serial number repeats in the file, or belongs to another voucher already, then the seed names it and loads nothing', async () => {
    const voucherFile = async (name: string, vouchers: readonly string[]) => {
      const file = join(directory, `${name}.yaml`);
      await writeFile(file, [
        'organisations:',
        '  - name: ministry-of-social-protection',
        'programs:',
        '  - { organisation: ministry-of-social-protection, code: CT-2026, name: Cash transfers 2026, currency: KES, funding_account: { type: bank_account, value: "0011223344", institution: CBK }, budget: "50000000.00", approval_threshold: "1000000.00", default: true }',
        'voucher_groups:',
        '  - { organisation: ministry-of-social-protection, code: FOOD, name: Food vouchers, program: CT-2026, validity_days: 90 }',
        'vouchers:',
        ...vouchers.map((voucher) => `  - { organisation: ministry-of-social-protection, group: FOOD, amount: "5.00", status: activated, ${voucher} }`),
        '',
      ].join('\n'));
      return file;
    };
    const vouchersBefore = await count('vouchers');
    const repeated = await kassaSeed(await voucherFile('repeated-serial', ['number: "4000000000000101", serial_number: "6000000001"', 'number: "4000000000000102", serial_number: "6000000001"']));
    assert.equal(repeated.code, 1);
    assert.match(repeated.stderr, /vouchers: "serial number 6000000001" appears more than once/);
    const taken = await kassaSeed(await voucherFile('taken-serial', ['number: "4000000000000103", serial_number: "5000000001"']));
    assert.equal(taken.code, 1);
    assert.match(taken.stderr, /serial number 5000000001 belongs to another voucher already/);
    assert.equal(await count('vouchers'), vouchersBefore);
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

    const result = await kassaSeed(file);

    assert.equal(result.code, 1);
    assert.match(result.stderr, /program CT-2026 of "ministry-of-social-protection" is in KES; a program's currency never changes/);
    assert.equal(await db()('organisations').where({ name: 'brand-new-agency' }).first(), undefined, 'the organisation the file also named was not created');
  });
});
