/**
 * `npm run bench:bulk [-- --payments 1000000 --backend postgres|redis --profile DIR]`
 *
 * A social agency's pay day, end to end, against a `kassa start` whose rails are the ISO 20022 bank simulator
 * and the GSMA mobile-money simulator (in this process): registers the beneficiaries through the GovStack account
 * mapper, writes the batch file (half bank accounts, half wallets, paid by functional ID), uploads it, approves
 * it with a second credential, and waits until every payment is final. Prints the upload and validation times,
 * payments/s end to end, the peak RSS of each Kassa process, the database size, and how often each rail
 * executed each payment (exactly once, or the exit code is 1).
 */
import { createReadStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startKassa, type KassaProcess } from './support/kassa-process.ts';
import { checkerKey, createProgram, REGISTERING_INSTITUTION, registerBeneficiaries, writeBatchFile, type Beneficiary } from './support/bulk-agency.ts';
import { peakMemory, databaseSize, type PeakMemory } from './support/footprint.ts';
import { ibanPayee, msisdnPayee } from './support/payees.ts';
import { executedExactlyOnce, executionDistribution, type ExecutionDistribution } from './support/rail-executions.ts';
import { BANK_RAIL, MOBILE_CURRENCY, MOBILE_RAIL, railEnv, startRailSimulators, type RailSimulators } from './support/rail-simulators.ts';
import { REDIS_INSTALL_HINT, redisServerInstalled, startRedisServer } from './support/redis-server.ts';
import pg from 'pg';
import { runBench } from './support/run-bench.ts';

type Backend = 'postgres' | 'redis';

const AMOUNT = '10.00';
const PROGRAM = 'BENCH';
const FINAL_BATCH = new Set(['completed', 'rejected', 'cancelled']);
const PROGRESS_EVERY_MS = 10_000;
const TIMEOUT_MS = 60 * 60_000;

interface Settings {
  readonly payments: number;
  readonly backend: Backend;
  /** Where Kassa's processes write V8 CPU profiles (--cpu-prof), when asked. */
  readonly profileDir: string | undefined;
}

function readSettings(): Settings {
  const { values } = parseArgs({ options: { payments: { type: 'string', default: '100000' }, backend: { type: 'string', default: 'postgres' }, profile: { type: 'string' } } });
  const payments = Number(values.payments);
  if (!Number.isInteger(payments) || payments <= 0) throw new Error(`--payments: expected a positive integer, got "${values.payments}"`);
  if (values.backend !== 'postgres' && values.backend !== 'redis') throw new Error(`--backend: expected postgres or redis, got "${values.backend}"`);
  return { payments, backend: values.backend, profileDir: values.profile };
}

/** Even beneficiaries are paid into a bank account (modality 00), odd ones into a mobile wallet (01). */
function beneficiary(index: number): Beneficiary {
  const payee = index % 2 === 0 ? ibanPayee(index) : msisdnPayee(index);
  return { functionalId: `NID${String(index).padStart(12, '0')}`, modality: payee.type === 'iban' ? '00' : '01', financialAddress: payee.value };
}

interface Measurement {
  readonly payments: number;
  readonly backend: Backend;
  readonly registerSeconds: number;
  readonly fileMegabytes: number;
  readonly uploadSeconds: number;
  readonly validationSeconds: number;
  readonly paymentSeconds: number;
  readonly totalSeconds: number;
  readonly batch: BatchSummary;
  readonly memory: readonly PeakMemory[];
  readonly databaseBytes: number;
  readonly executions: readonly ExecutionDistribution[];
}

interface BatchSummary {
  readonly id: string;
  readonly status: string;
  readonly validation: { valid: number; invalid: number };
  readonly payments: Record<string, { count: number; amount: string }>;
}

async function run(settings: Settings): Promise<Measurement> {
  if (settings.backend === 'redis' && !redisServerInstalled()) throw new Error(REDIS_INSTALL_HINT);
  const simulators = await startRailSimulators();
  const redis = settings.backend === 'redis' ? await startRedisServer() : undefined;
  const workDir = mkdtempSync(path.join(tmpdir(), 'kassa-bulk-'));
  try {
    console.log(`\nbulk: ${settings.payments} payments, queues on ${settings.backend}: starting Kassa…`);
    const kassa = await startKassa({ redisUrl: redis?.url, profileDir: settings.profileDir, env: { ...railEnv(simulators), LOG_LEVEL: 'warn', DISPATCH_CHUNK_SIZE: '1000' } });
    try {
      return await measure(kassa, simulators, settings, workDir);
    } finally {
      await kassa.stop();
    }
  } finally {
    rmSync(workDir, { recursive: true, force: true });
    await redis?.stop();
    await simulators.close();
  }
}

async function measure(kassa: KassaProcess, simulators: RailSimulators, settings: Settings, workDir: string): Promise<Measurement> {
  const api = { url: kassa.url, apiKey: kassa.apiKey };
  const budget = (BigInt(settings.payments) * 1000n * 2n).toString();
  await createProgram(api, { code: PROGRAM, currency: MOBILE_CURRENCY, budget: `${budget}.00` });
  const checker = await checkerKey(api);

  let started = performance.now();
  await registerBeneficiaries(api, settings.payments, beneficiary);
  const registerSeconds = (performance.now() - started) / 1000;
  console.log(`  ${settings.payments} beneficiaries registered in ${registerSeconds.toFixed(1)} s`);

  const file = path.join(workDir, 'batch.csv');
  const control = await writeBatchFile(file, settings.payments, (index) => ({ functionalId: beneficiary(index).functionalId, amount: AMOUNT, currency: MOBILE_CURRENCY }));
  const fileMegabytes = statSync(file).size / 1e6;

  const payDay = performance.now();
  started = payDay;
  const query = new URLSearchParams({ program: PROGRAM, registering_institution: REGISTERING_INSTITUTION, control_count: String(control.count), control_total: `${MOBILE_CURRENCY}:${control.total}` });
  const response = await fetch(`${kassa.url}/v1/batches?${query}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${kassa.apiKey}`, 'content-type': 'text/csv', 'idempotency-key': `bench-bulk-${Date.now()}` },
    body: createReadStream(file) as unknown as ReadableStream,
    duplex: 'half',
  } as RequestInit);
  const accepted = (await response.json()) as { id: string; detail?: string };
  if (response.status !== 202) throw new Error(`the upload was refused (${response.status}): ${accepted.detail ?? JSON.stringify(accepted)}`);
  const uploadSeconds = (performance.now() - started) / 1000;
  console.log(`  upload of ${fileMegabytes.toFixed(1)} MB accepted in ${uploadSeconds.toFixed(1)} s: batch ${accepted.id}`);

  started = performance.now();
  const validated = await waitForBatch(kassa, accepted.id, (batch) => batch.status !== 'validating');
  const validationSeconds = (performance.now() - started) / 1000;
  if (validated.status !== 'awaiting_approval') throw new Error(`expected the batch to await approval, it is ${validated.status}`);
  console.log(`  validated in ${validationSeconds.toFixed(1)} s: ${validated.validation.valid} valid, ${validated.validation.invalid} invalid; approving…`);

  const approval = await fetch(`${kassa.url}/v1/batches/${accepted.id}/approve`, {
    method: 'POST', headers: { authorization: `Bearer ${checker}`, 'idempotency-key': `approve-${accepted.id}` },
  });
  if (approval.status !== 200) throw new Error(`approval refused (${approval.status}): ${await approval.text()}`);

  started = performance.now();
  const done = await waitForBatch(kassa, accepted.id, (batch) => FINAL_BATCH.has(batch.status), (batch) => {
    const final = ['completed', 'failed', 'cancelled'].reduce((sum, outcome) => sum + (batch.payments[outcome]?.count ?? 0), 0);
    console.log(`  ${((performance.now() - started) / 1000).toFixed(0)} s after approval: ${final} of ${batch.validation.valid} payments final`);
  });
  const paymentSeconds = (performance.now() - started) / 1000;
  const totalSeconds = (performance.now() - payDay) / 1000;

  const memory = peakMemory(kassa.pid);
  const databaseBytes = await databaseSize(kassa.databaseUrl);
  const railKeys = await orderRailKeys(kassa.databaseUrl);
  return {
    payments: settings.payments, backend: settings.backend, registerSeconds, fileMegabytes, uploadSeconds, validationSeconds, paymentSeconds, totalSeconds,
    batch: done, memory, databaseBytes,
    executions: [
      executionDistribution(BANK_RAIL, railKeys, simulators.bank.executionCounts()),
      executionDistribution(MOBILE_RAIL, railKeys, simulators.operator.executionCounts()),
    ],
  };
}

async function waitForBatch(kassa: KassaProcess, id: string, reached: (batch: BatchSummary) => boolean, progress?: (batch: BatchSummary) => void): Promise<BatchSummary> {
  const deadline = Date.now() + TIMEOUT_MS;
  let lastProgress = performance.now();
  for (;;) {
    const response = await fetch(`${kassa.url}/v1/batches/${id}`, { headers: { authorization: `Bearer ${kassa.apiKey}` } });
    const batch = (await response.json()) as BatchSummary;
    if (reached(batch)) return batch;
    if (Date.now() > deadline) throw new Error(`batch ${id} is still ${batch.status} after ${TIMEOUT_MS / 60_000} minutes`);
    if (progress && performance.now() - lastProgress >= PROGRESS_EVERY_MS) {
      lastProgress = performance.now();
      progress(batch);
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

async function orderRailKeys(databaseUrl: string): Promise<{ rail: string; railKey: string }[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ rail: string; rail_key: string }>('SELECT rail, rail_key FROM orders');
    return rows.map((row) => ({ rail: row.rail, railKey: row.rail_key }));
  } finally {
    await client.end();
  }
}

function report(measurement: Measurement): string[] {
  const problems: string[] = [];
  const { batch } = measurement;
  const paid = batch.payments.completed?.count ?? 0;
  console.log(`\nbench:bulk — ${measurement.payments} payments, queues on ${measurement.backend}, batch ${batch.id} ${batch.status}`);
  console.log(`  beneficiaries registered          ${measurement.registerSeconds.toFixed(1)} s (${(measurement.payments / measurement.registerSeconds).toFixed(0)}/s)`);
  console.log(`  upload accepted                   ${measurement.uploadSeconds.toFixed(1)} s (${measurement.fileMegabytes.toFixed(1)} MB)`);
  console.log(`  validated (account mapper…)       ${measurement.validationSeconds.toFixed(1)} s`);
  console.log(`  approval → every payment final    ${measurement.paymentSeconds.toFixed(1)} s: ${(measurement.payments / measurement.paymentSeconds).toFixed(0)} payments/s`);
  console.log(`  upload → every payment final      ${measurement.totalSeconds.toFixed(1)} s: ${(measurement.payments / measurement.totalSeconds).toFixed(0)} payments/s end to end`);
  console.log(`  outcomes                          ${Object.entries(batch.payments).map(([outcome, totals]) => `${outcome} ${totals.count}`).join(', ')}`);
  for (const process of measurement.memory) console.log(`  peak RSS ${process.label.padEnd(25)}${(process.peakBytes / 2 ** 20).toFixed(0)} MiB`);
  console.log(`  database size                     ${(measurement.databaseBytes / 2 ** 20).toFixed(0)} MiB`);
  for (const rail of measurement.executions) {
    console.log(`  ${rail.rail.padEnd(33)} ${rail.orders} payments: executed once ${rail.once}, never ${rail.never}, more than once ${rail.moreThanOnce}, unknown keys ${rail.strangers}`);
    if (!executedExactlyOnce(rail)) problems.push(`${rail.rail} did not execute every payment exactly once`);
  }
  if (paid !== measurement.payments) problems.push(`${paid} of ${measurement.payments} payments completed`);
  return problems;
}

await runBench('bench:bulk', async () => report(await run(readSettings())));
