/**
 * `npm run bench:recon [-- --lines 1000000]`
 *
 * Treasury's end of day at scale, against a `kassa start` (embedded PostgreSQL, as a user runs it): seeds as
 * many orders as the statement has lines straight into the database (a bench may seed with SQL), writes a
 * statement CSV of that many lines — single bookings, bulk lines of ten payments, and a few hundred deliberate
 * discrepancies of each kind (missing, unexpected, amount mismatch, duplicate, status mismatch, return) plus
 * payments still awaiting their rail that the statement confirms — then uploads it with `POST /v1/statements`,
 * which stores and reconciles it. Prints lines/s for the upload-to-reconciled request, the peak RSS of each
 * process, and the exception counts by type; the exit code is 1 when any count is not the one planted.
 */
import { once } from 'node:events';
import { createReadStream, createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { databaseSize, peakMemory, type PeakMemory } from './support/footprint.ts';
import { startKassa, type KassaProcess } from './support/kassa-process.ts';
import { runBench } from './support/run-bench.ts';

const RAIL = 'sandbox';
const KINDS = ['missing_on_statement', 'unexpected_on_statement', 'amount_mismatch', 'duplicate_on_statement', 'status_mismatch', 'returned'] as const;
const SEED_CHUNK = 100_000;
const BULK_SIZE = 10;

interface Plan {
  /** Orders 0…orders-1; which of them the statement treats how. */
  readonly orders: number;
  readonly each: number;
  /** Orders [bulkFrom, bulkTo) are paid by bulk lines of BULK_SIZE. */
  readonly bulkFrom: number;
  readonly bulkTo: number;
  readonly lines: number;
}

function readSettings(): { lines: number } {
  const { values } = parseArgs({ options: { lines: { type: 'string', default: '100000' } } });
  const lines = Number(values.lines);
  if (!Number.isInteger(lines) || lines < 10_000) throw new Error(`--lines: expected an integer of at least 10000, got "${values.lines}"`);
  return { lines };
}

/**
 * The statement has exactly `lines` lines: one per order, except the missing ones (none) and those in bulk
 * lines (one line per ten), plus the unexpected, duplicate and return lines. So the orders are as many as the
 * lines, give or take the bulk lines' saving.
 */
function planFor(lines: number): Plan {
  const each = Math.min(300, Math.floor(lines / 2000));
  const bulkOrders = Math.floor(lines / 100 / BULK_SIZE) * BULK_SIZE;
  // lines = (orders - missing - bulkOrders) + bulkOrders / BULK_SIZE + unexpected + duplicate + returned
  const orders = lines + each - 3 * each + bulkOrders - bulkOrders / BULK_SIZE;
  return { orders, each, bulkFrom: orders - bulkOrders, bulkTo: orders, lines };
}

/** Order i's role: the first orders carry the planted discrepancies, in blocks of `each`. */
function roleOf(plan: Plan, i: number): 'missing' | 'amount' | 'duplicate' | 'status' | 'returned' | 'confirm' | 'plain' {
  const block = Math.floor(i / plan.each);
  return (['missing', 'amount', 'duplicate', 'status', 'returned', 'confirm'] as const)[block] ?? 'plain';
}

const railKey = (i: number) => `RK${String(i).padStart(12, '0')}`;
const amountMinor = (i: number) => 1000 + (i % 5000);
const money = (minor: number) => `${Math.floor(minor / 100)}.${String(minor % 100).padStart(2, '0')}`;
const isoDay = (date: Date) => date.toISOString().slice(0, 10);

async function seedOrders(databaseUrl: string, plan: Plan, completedAt: Date): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ id: string }>(`SELECT organisation_id AS id FROM api_clients ORDER BY created_at LIMIT 1`);
    const organisationId = rows[0]!.id;
    const e = plan.each;
    for (let from = 0; from < plan.orders; from += SEED_CHUNK) {
      const to = Math.min(plan.orders, from + SEED_CHUNK) - 1;
      await client.query(
        `INSERT INTO orders (id, organisation_id, kind, status, amount_minor, currency, payer, payee, reference, metadata, rail, rail_key, rail_reference, created_at, updated_at, next_check_at)
         SELECT gen_random_uuid(), $1, 'benefit',
                CASE WHEN i >= 3 * $5::int AND i < 4 * $5::int THEN 'failed' WHEN i >= 5 * $5::int AND i < 6 * $5::int THEN 'submitted' ELSE 'completed' END,
                1000 + (i % 5000), 'EUR', '{"type":"iban","value":"DE89370400440532013000"}'::jsonb,
                jsonb_build_object('type', 'iban', 'value', 'BENCH' || lpad(i::text, 12, '0')), 'bench ' || i, '{}'::jsonb,
                $2, 'RK' || lpad(i::text, 12, '0'), 'T' || i, $3, $3,
                -- payments awaiting their rail have their next inquiry planned: the sweeper leaves them be
                CASE WHEN i >= 5 * $5::int AND i < 6 * $5::int THEN now() + interval '1 day' END
         FROM generate_series($4::int, $6::int) AS i`,
        [organisationId, RAIL, completedAt.toISOString(), from, e, to],
      );
    }
    await client.query('ANALYZE orders');
  } finally {
    await client.end();
  }
}

const HEADER = 'booking_date,value_date,direction,amount,currency,end_to_end_id,rail_reference,counterparty_account,reversal,reason_code,batch_end_to_end_ids\n';

async function writeStatement(file: string, plan: Plan, day: string): Promise<number> {
  const out = createWriteStream(file);
  let written = 0;
  let buffer = HEADER;
  const line = (text: string) => {
    buffer += text;
    written += 1;
  };
  const flush = async () => {
    if (!out.write(buffer)) await once(out, 'drain');
    buffer = '';
  };
  const single = (i: number, options: { reference?: string; minor?: number; reversal?: boolean } = {}) =>
    line(`${day},${day},${options.reversal ? 'credit' : 'debit'},${money(options.minor ?? amountMinor(i))},EUR,${railKey(i)},${options.reference ?? `T${i}`},BENCH${String(i).padStart(12, '0')},${options.reversal ? 'true,AC04' : 'false,'},\n`);
  for (let i = 0; i < plan.bulkFrom; i++) {
    const role = roleOf(plan, i);
    if (role === 'missing') continue;
    single(i, role === 'amount' ? { minor: amountMinor(i) + 1 } : {});
    if (role === 'duplicate') single(i, { reference: `D${i}` });
    if (role === 'returned') single(i, { reference: `R${i}`, reversal: true });
    if (buffer.length > 1 << 20) await flush();
  }
  for (let start = plan.bulkFrom; start < plan.bulkTo; start += BULK_SIZE) {
    const keys: string[] = [];
    let total = 0;
    for (let i = start; i < start + BULK_SIZE; i++) {
      keys.push(railKey(i));
      total += amountMinor(i);
    }
    line(`${day},${day},debit,${money(total)},EUR,,B${start},,false,,${keys.join(' ')}\n`);
    if (buffer.length > 1 << 20) await flush();
  }
  for (let u = 0; u < plan.each; u++) line(`${day},${day},debit,12.34,EUR,UNKNOWN${String(u).padStart(8, '0')},U${u},,false,,\n`);
  await flush();
  out.end();
  await once(out, 'finish');
  return written;
}

interface RunView {
  readonly lines: number;
  readonly matched: number;
  readonly unmatched: number;
  readonly confirmed: number;
  readonly returned: number;
  readonly exceptions_by_type: Record<string, number>;
}

interface Measurement {
  readonly plan: Plan;
  readonly fileMegabytes: number;
  readonly seconds: number;
  readonly run: RunView;
  readonly memory: readonly PeakMemory[];
  readonly benchPeakBytes: number;
  readonly databaseBytes: number;
}

async function run(settings: { lines: number }): Promise<Measurement> {
  const plan = planFor(settings.lines);
  const workDir = mkdtempSync(path.join(tmpdir(), 'kassa-recon-'));
  try {
    console.log(`\nrecon: a statement of ${plan.lines} lines against ${plan.orders} orders: starting Kassa…`);
    const kassa = await startKassa({ env: { LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn', RECON_MISSING_AFTER_DAYS: '2' } });
    try {
      return await measure(kassa, plan, workDir);
    } finally {
      await kassa.stop();
    }
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}

async function measure(kassa: KassaProcess, plan: Plan, workDir: string): Promise<Measurement> {
  const day = isoDay(new Date());
  // Paid two days before the statement day: exactly RECON_MISSING_AFTER_DAYS, so the missing ones are due.
  const completedAt = new Date(`${day}T12:00:00Z`);
  completedAt.setUTCDate(completedAt.getUTCDate() - 2);
  let started = performance.now();
  await seedOrders(kassa.databaseUrl, plan, completedAt);
  console.log(`  ${plan.orders} orders seeded in ${((performance.now() - started) / 1000).toFixed(1)} s`);

  const file = path.join(workDir, 'statement.csv');
  started = performance.now();
  const lines = await writeStatement(file, plan, day);
  if (lines !== plan.lines) throw new Error(`the statement has ${lines} lines, planned ${plan.lines}`);
  const fileMegabytes = statSync(file).size / 1e6;
  console.log(`  statement of ${lines} lines (${fileMegabytes.toFixed(1)} MB) written in ${((performance.now() - started) / 1000).toFixed(1)} s; uploading…`);

  started = performance.now();
  const response = await fetch(`${kassa.url}/v1/statements?rail=${RAIL}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${kassa.apiKey}`, 'content-type': 'text/csv' },
    body: createReadStream(file) as unknown as ReadableStream,
    duplex: 'half',
  } as RequestInit);
  const answer = (await response.json()) as { run?: RunView; detail?: string };
  const seconds = (performance.now() - started) / 1000;
  if (response.status !== 201 || !answer.run) throw new Error(`the statement was refused (${response.status}): ${answer.detail ?? JSON.stringify(answer)}`);
  return {
    plan, fileMegabytes, seconds, run: answer.run,
    memory: peakMemory(kassa.pid), benchPeakBytes: benchPeak(), databaseBytes: await databaseSize(kassa.databaseUrl),
  };
}

function benchPeak(): number {
  return process.resourceUsage().maxRSS * 1024;
}

function report(m: Measurement): string[] {
  const { run: r, plan } = m;
  const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;
  console.log(`\nbench:recon — a statement of ${plan.lines} lines (CSV, ${m.fileMegabytes.toFixed(1)} MB) against ${plan.orders} orders`);
  console.log(`  upload → stored and reconciled      ${m.seconds.toFixed(1)} s: ${(plan.lines / m.seconds).toFixed(0)} lines/s`);
  console.log(`  lines                               ${r.lines}: matched ${r.matched}, with exceptions ${r.unmatched}`);
  console.log(`  orders confirmed / returned         ${r.confirmed} / ${r.returned}`);
  console.log(`  exceptions                          ${KINDS.map((kind) => `${kind} ${r.exceptions_by_type[kind] ?? 0}`).join(', ')}`);
  for (const process of m.memory) console.log(`  peak RSS ${process.label.padEnd(27)}${mib(process.peakBytes)}`);
  console.log(`  peak RSS bench (file writer, client) ${mib(m.benchPeakBytes)}`);
  console.log(`  database size                       ${mib(m.databaseBytes)}`);
  const problems: string[] = [];
  for (const kind of KINDS) {
    const expected = plan.each;
    if ((r.exceptions_by_type[kind] ?? 0) !== expected) problems.push(`${kind}: ${r.exceptions_by_type[kind] ?? 0}, planted ${expected}`);
  }
  if (r.confirmed !== plan.each) problems.push(`confirmed ${r.confirmed}, planted ${plan.each}`);
  if (r.returned !== plan.each) problems.push(`returned ${r.returned}, planted ${plan.each}`);
  if (r.lines !== plan.lines) problems.push(`${r.lines} lines reconciled of ${plan.lines}`);
  return problems;
}

await runBench('bench:recon', async () => report(await run(readSettings())));
