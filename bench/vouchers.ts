/**
 * `npm run bench:vouchers [-- --vouchers 100000 --agents 50 --profile DIR]`
 *
 * A voucher pay-out at scale, against a `kassa start` as a user runs it (embedded PostgreSQL, the sandbox rail):
 * sets up a program, a voucher group and one merchant per agent (each with its own credential), then over the
 * GovStack v3 API pre-activates every voucher in one request and activates them in one request, and redeems them
 * from the agents at once. The agents work in pairs on the same vouchers in the same order, so every voucher is
 * redeemed by two agents racing each other. Prints vouchers/s for each step, the double redemptions counted in the
 * database (vouchers redeemed, or paid out, more than once: it must be 0), the program's budget afterwards, the time
 * until every payout is paid on the rail, and the peak RSS of each process. The exit code is 1 when any voucher was
 * redeemed twice, or not at all, or the budget does not add up.
 */
import { once } from 'node:events';
import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { waitUntilAllFinal } from './support/drain.ts';
import { peakMemory, type PeakMemory } from './support/footprint.ts';
import { startKassa, type KassaProcess } from './support/kassa-process.ts';
import { msisdnPayee } from './support/payees.ts';
import { runBench } from './support/run-bench.ts';

const AMOUNT = 10;
const PROGRAM = 'VOUCHERS';
const GROUP = 'BEN';
const PAYOUT_TIMEOUT_MS = 20 * 60_000;

interface Settings {
  readonly vouchers: number;
  readonly agents: number;
  /** Where Kassa's process writes a V8 CPU profile (--cpu-prof), when asked. */
  readonly profileDir: string | undefined;
}

function readSettings(): Settings {
  const { values } = parseArgs({ options: { vouchers: { type: 'string', default: '100000' }, agents: { type: 'string', default: '50' }, profile: { type: 'string' } } });
  const vouchers = Number(values.vouchers);
  const agents = Number(values.agents);
  if (!Number.isInteger(vouchers) || vouchers < 1 || vouchers > 100_000) throw new Error(`--vouchers: expected an integer from 1 to 100000 (one request), got "${values.vouchers}"`);
  if (!Number.isInteger(agents) || agents < 2 || agents % 2 !== 0) throw new Error(`--agents: expected an even integer of at least 2 (agents race in pairs), got "${values.agents}"`);
  return { vouchers, agents, profileDir: values.profile };
}

interface Voucher {
  readonly serialNumber: string;
  readonly voucherNumber: string;
}

interface Step {
  readonly seconds: number;
  readonly vouchers: number;
}

interface Measurement {
  readonly settings: Settings;
  readonly preActivation: Step;
  readonly activation: Step;
  readonly redemption: Step & { readonly attempts: number; readonly refusedAsUsed: number; readonly otherAnswers: Readonly<Record<string, number>> };
  readonly payouts: { readonly seconds: number; readonly drained: boolean; readonly counts: Readonly<Record<string, number>> };
  readonly database: DatabaseCount;
  readonly budget: { readonly blocked: string; readonly disbursed: string };
  readonly memory: readonly PeakMemory[];
}

interface DatabaseCount {
  readonly redeemed: number;
  readonly payouts: number;
  readonly redeemedTwice: number;
  readonly paidTwice: number;
}

async function run(settings: Settings): Promise<Measurement> {
  console.log(`\nvouchers: ${settings.vouchers} vouchers, ${settings.agents} agents: starting Kassa…`);
  const receiver = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(204).end());
  }).listen(0, '127.0.0.1');
  await once(receiver, 'listening');
  const callbackUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/vouchers`;
  const kassa = await startKassa({ env: { LOG_LEVEL: 'warn' }, profileDir: settings.profileDir });
  try {
    return await measure(kassa, settings, callbackUrl);
  } finally {
    await kassa.stop();
    receiver.close();
  }
}

async function measure(kassa: KassaProcess, settings: Settings, callbackUrl: string): Promise<Measurement> {
  const budget = `${settings.vouchers * AMOUNT}.00`;
  await send(kassa, kassa.apiKey, 'POST', '/v1/programs', {
    code: PROGRAM, name: 'Bench vouchers', currency: 'KES', budget, approval_threshold: '0', funding_account: { type: 'iban', value: 'GB82WEST12345698765432' },
  });
  await send(kassa, kassa.apiKey, 'POST', '/v1/voucher-groups', { code: GROUP, name: 'Bench benefit', program: PROGRAM, validity: 'P30D' });
  const agentKeys: string[] = [];
  for (let agent = 0; agent < settings.agents; agent += 1) {
    const merchant = (await send(kassa, kassa.apiKey, 'POST', '/v1/merchants', {
      code: `AG${agent}`, name: `Bench agent ${agent}`, kind: 'agent', account: msisdnPayee(agent), credential: true,
    })) as { api_key: string };
    agentKeys.push(merchant.api_key);
  }

  let started = performance.now();
  const instructions = Array.from({ length: settings.vouchers }, (_, index) => ({
    instructionID: `B${index}`, groupCode: GROUP, currency: 'KES', amount: AMOUNT, payeeFunctionalID: `NID${String(index).padStart(12, '0')}`, narration: 'bench voucher',
  }));
  const created = (await send(kassa, kassa.apiKey, 'POST', '/vouchers', { requestID: 'BENCH-PRE', batchID: 'BENCH', voucherInstructions: instructions }, { 'X-Callback-URL': callbackUrl })) as {
    voucherInstructions: Voucher[];
  };
  const preActivation = { seconds: (performance.now() - started) / 1000, vouchers: created.voucherInstructions.length };
  console.log(`  ${preActivation.vouchers} vouchers pre-activated in one request: ${preActivation.seconds.toFixed(1)} s`);
  const vouchers = created.voucherInstructions.map(({ serialNumber, voucherNumber }) => ({ serialNumber, voucherNumber }));

  started = performance.now();
  const activated = (await send(kassa, kassa.apiKey, 'PUT', '/vouchers?command=activate', {
    RequestID: 'BENCH-ACT', VoucherInstructions: vouchers.map((voucher) => ({ serialNumber: voucher.serialNumber })),
  }, { 'X-Callback-URL': callbackUrl })) as { ResponseCode: string; ResponseDescription: string };
  if (activated.ResponseCode !== '00') throw new Error(`activation failed: ${activated.ResponseDescription}`);
  const activation = { seconds: (performance.now() - started) / 1000, vouchers: vouchers.length };
  console.log(`  ${activation.vouchers} vouchers activated in one request: ${activation.seconds.toFixed(1)} s`);

  const redemption = await redeemInPairs(kassa, agentKeys, vouchers);
  console.log(`  ${redemption.vouchers} vouchers redeemed by ${settings.agents} agents in ${redemption.seconds.toFixed(1)} s (${redemption.attempts} attempts)`);

  const payouts = await waitUntilAllFinal(kassa.databaseUrl, kassa.pid, PAYOUT_TIMEOUT_MS);
  const memory = peakMemory(kassa.pid);
  const program = (await send(kassa, kassa.apiKey, 'GET', '/v1/programs')) as { data: { code: string; blocked: string; disbursed: string }[] };
  const { blocked, disbursed } = program.data.find((entry) => entry.code === PROGRAM)!;
  return { settings, preActivation, activation, redemption, payouts, database: await countRedemptions(kassa.databaseUrl), budget: { blocked, disbursed }, memory };
}

/**
 * Agent 2k and 2k+1 walk the same share of the vouchers in the same order, one request in flight each: every voucher
 * is asked for twice at nearly the same moment, by two merchants.
 */
async function redeemInPairs(kassa: KassaProcess, agentKeys: readonly string[], vouchers: readonly Voucher[]) {
  const pairs = agentKeys.length / 2;
  const answers = new Map<number, number>();
  const started = performance.now();
  // Plain keep-alive HTTP rather than fetch: the agents share the machine with Kassa and should cost it little.
  const connections = new Agent({ keepAlive: true, maxSockets: agentKeys.length });
  const url = new URL('/vouchers?command=redeem', kassa.url);
  await Promise.all(agentKeys.map(async (key, agent) => {
    const pair = Math.floor(agent / 2);
    for (let index = pair; index < vouchers.length; index += pairs) {
      const voucher = vouchers[index]!;
      const body = JSON.stringify({ requestID: `R${agent}-${index}`.slice(0, 12), voucherSerialNumber: voucher.serialNumber, voucherSecretNumber: voucher.voucherNumber });
      const status = await post(url, connections, { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body);
      answers.set(status, (answers.get(status) ?? 0) + 1);
    }
  }));
  connections.destroy();
  const seconds = (performance.now() - started) / 1000;
  const { 200: redeemed = 0, 458: refusedAsUsed = 0, ...others } = Object.fromEntries(answers) as Record<number, number>;
  return { seconds, vouchers: redeemed, attempts: [...answers.values()].reduce((sum, count) => sum + count, 0), refusedAsUsed, otherAnswers: others };
}

function post(url: URL, agent: Agent, headers: Record<string, string>, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', agent, headers: { ...headers, 'content-length': Buffer.byteLength(body) } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** What the database says happened: not what the answers said. */
async function countRedemptions(databaseUrl: string): Promise<DatabaseCount> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const one = async (sql: string) => Number((await client.query<{ count: string }>(sql)).rows[0]!.count);
    return {
      redeemed: await one(`SELECT count(*) FROM vouchers WHERE status = 'redeemed'`),
      payouts: await one(`SELECT count(*) FROM orders WHERE metadata ? 'voucher_serial_number'`),
      redeemedTwice: await one(`SELECT count(*) FROM (SELECT serial_number FROM voucher_events WHERE to_status = 'redeemed' GROUP BY serial_number HAVING count(*) > 1) twice`),
      paidTwice: await one(`SELECT count(*) FROM (SELECT metadata->>'voucher_serial_number' FROM orders WHERE metadata ? 'voucher_serial_number' GROUP BY 1 HAVING count(*) > 1) twice`),
    };
  } finally {
    await client.end();
  }
}

async function send(kassa: KassaProcess, key: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<unknown> {
  const response = await fetch(`${kassa.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'idempotency-key': `bench-${Date.now()}-${Math.random()}`, ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  if (response.status >= 300) throw new Error(`${method} ${path} answered ${response.status}: ${text.slice(0, 500)}`);
  return JSON.parse(text) as unknown;
}

const rate = (step: Step) => `${(step.vouchers / step.seconds).toFixed(0)} vouchers/s`;

function report(measurement: Measurement): string[] {
  const { settings, preActivation, activation, redemption, payouts, database, budget } = measurement;
  const doubles = database.redeemedTwice + database.paidTwice;
  console.log(`\nbench:vouchers — ${settings.vouchers} vouchers of ${AMOUNT}.00 KES, ${settings.agents} agents racing in pairs`);
  console.log(`  pre-activated (one request)       ${preActivation.seconds.toFixed(1)} s: ${rate(preActivation)}`);
  console.log(`  activated (one request)           ${activation.seconds.toFixed(1)} s: ${rate(activation)}`);
  console.log(`  redeemed (${settings.agents} agents)              ${redemption.seconds.toFixed(1)} s: ${rate(redemption)}, ${(redemption.attempts / redemption.seconds).toFixed(0)} attempts/s`);
  console.log(`  redemption answers                200 ${redemption.vouchers}, 458 already used ${redemption.refusedAsUsed}${Object.entries(redemption.otherAnswers).map(([code, count]) => `, ${code} ${count}`).join('')}`);
  console.log(`  double redemptions (database)     ${doubles} (vouchers redeemed twice ${database.redeemedTwice}, paid out twice ${database.paidTwice})`);
  console.log(`  vouchers redeemed / payouts       ${database.redeemed} / ${database.payouts}`);
  console.log(`  program budget afterwards         blocked ${budget.blocked}, disbursed ${budget.disbursed}`);
  console.log(`  payouts paid on the rail          ${payouts.drained ? `${payouts.seconds.toFixed(1)} s after the last redemption` : `NOT within ${(payouts.seconds / 60).toFixed(0)} min`}: ${Object.entries(payouts.counts).map(([status, count]) => `${status} ${count}`).join(', ')}`);
  for (const process of measurement.memory) console.log(`  peak RSS ${process.label.padEnd(25)}${(process.peakBytes / 2 ** 20).toFixed(0)} MiB`);
  const problems: string[] = [];
  if (doubles > 0) problems.push(`${doubles} vouchers were redeemed or paid out more than once`);
  if (database.redeemed !== settings.vouchers || database.payouts !== settings.vouchers) problems.push(`${database.redeemed} vouchers redeemed and ${database.payouts} payouts, of ${settings.vouchers}`);
  if (budget.blocked !== '0.00' || budget.disbursed !== `${settings.vouchers * AMOUNT}.00`) problems.push(`the budget does not add up: blocked ${budget.blocked}, disbursed ${budget.disbursed}`);
  if (!payouts.drained || (payouts.counts.completed ?? 0) !== settings.vouchers) problems.push('not every payout was paid on the rail');
  return problems;
}

await runBench('bench:vouchers', async () => report(await run(readSettings())));
