/**
 * `npm run bench:rails [-- --orders 50000 --concurrency 64 --chunk 1000 --backend postgres|redis]`
 *
 * Benefit orders over HTTP to a `kassa start` whose rails are the ISO 20022 bank simulator (IBAN payees) and the
 * GSMA mobile-money simulator (MSISDN payees), both running in this process. Waits until every order is final,
 * then prints payments/s per rail and end to end, the chunks the rails received, and how many times each rail
 * executed each order (must be exactly once; the exit code is 1 otherwise).
 */
import { parseArgs } from 'node:util';
import { coresUsed, snapshotCpu } from './support/cpu.ts';
import { isRunning, waitUntilAllFinal } from './support/drain.ts';
import { startKassa, type KassaProcess } from './support/kassa-process.ts';
import { ibanPayee, msisdnPayee } from './support/payees.ts';
import { processLabels } from './support/process-labels.ts';
import { executionDistribution } from './support/rail-executions.ts';
import { readPipelineFigures } from './support/rail-figures.ts';
import { BANK_RAIL, MOBILE_CURRENCY, MOBILE_RAIL, railEnv, startRailSimulators, type RailSimulators } from './support/rail-simulators.ts';
import { printRailsReport, problemsWith, type RailsMeasurement } from './support/rails-report.ts';
import { REDIS_INSTALL_HINT, redisServerInstalled, startRedisServer, type RedisServer } from './support/redis-server.ts';
import { submitOrders, type OrderBody } from './support/submit-orders.ts';

type Backend = 'postgres' | 'redis';

interface Settings {
  readonly orders: number;
  readonly concurrency: number;
  readonly chunkSize: number;
  readonly backend: Backend;
}

const TITLES: Record<Backend, string> = {
  postgres: 'rails: bank ISO 20022 + GSMA mobile money, queues on PostgreSQL (BullMQ backend, embedded default)',
  redis: 'rails: bank ISO 20022 + GSMA mobile money, queues on Redis',
};
const DRAIN_TIMEOUT_MS = 15 * 60_000;
const BANK_CURRENCY = 'EUR';

function readSettings(): Settings {
  const { values } = parseArgs({
    options: {
      orders: { type: 'string', default: '50000' },
      concurrency: { type: 'string', default: '64' },
      chunk: { type: 'string', default: '1000' },
      backend: { type: 'string', default: 'postgres' },
    },
  });
  if (values.backend !== 'postgres' && values.backend !== 'redis') throw new Error(`--backend: expected postgres or redis, got "${values.backend}"`);
  return {
    orders: positiveInteger('--orders', values.orders),
    concurrency: positiveInteger('--concurrency', values.concurrency),
    chunkSize: positiveInteger('--chunk', values.chunk),
    backend: values.backend,
  };
}

function positiveInteger(flag: string, text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${flag}: expected a positive integer, got "${text}"`);
  return value;
}

/** Even indexes pay a bank account, odd ones a mobile wallet; every payee is distinct. */
function benefitOrders(count: number): OrderBody[] {
  return Array.from({ length: count }, (_, index) => ({
    kind: 'benefit',
    amount: '25.00',
    currency: index % 2 === 0 ? BANK_CURRENCY : MOBILE_CURRENCY,
    payer: { type: 'bank_account', value: '0011223344' },
    payee: index % 2 === 0 ? ibanPayee(index) : msisdnPayee(index),
    reference: `bench rails ${index}`,
  }));
}

async function benchmark(settings: Settings): Promise<RailsMeasurement> {
  if (settings.backend === 'redis' && !redisServerInstalled()) throw new Error(REDIS_INSTALL_HINT);
  const simulators = await startRailSimulators();
  try {
    const redis = settings.backend === 'redis' ? await startRedisServer() : undefined;
    try {
      console.log(`\n${TITLES[settings.backend]}: starting Kassa…`);
      const env = { ...railEnv(simulators), DISPATCH_CHUNK_SIZE: String(settings.chunkSize), LOG_LEVEL: 'warn', RATE_LIMIT_PER_MINUTE: '1000000000' };
      const kassa = await startKassa({ redisUrl: redis?.url, env });
      try {
        return await measure(kassa, simulators, redis, settings);
      } finally {
        await kassa.stop();
      }
    } finally {
      await redis?.stop();
    }
  } finally {
    await simulators.close();
  }
}

async function measure(kassa: KassaProcess, simulators: RailSimulators, redis: RedisServer | undefined, settings: Settings): Promise<RailsMeasurement> {
  const labels = processLabels(process.pid, kassa.pid, redis?.pid);
  const cpu = () => ({ at: performance.now(), used: snapshotCpu(process.pid, labels) });
  const orders = benefitOrders(settings.orders);

  console.log(`  ${kassa.url}: POST /v1/orders × ${settings.orders}, ${settings.concurrency} at once…`);
  const beforeIntake = cpu();
  const intake = await submitOrders({ url: kassa.url, apiKey: kassa.apiKey, orders, concurrency: settings.concurrency });
  const afterIntake = cpu();
  console.log(`  ${intake.accepted} orders accepted in ${intake.seconds.toFixed(1)} s; waiting until every order is final…`);
  if (!isRunning(kassa.pid)) throw new Error(`kassa start (pid ${kassa.pid}) exited during the intake`);
  const drain = await waitUntilAllFinal(kassa.databaseUrl, kassa.pid, DRAIN_TIMEOUT_MS);
  const afterDrain = cpu();

  const figures = await readPipelineFigures(kassa.databaseUrl);
  const executionsByRail = new Map([
    [BANK_RAIL, simulators.bank.executionCounts()],
    [MOBILE_RAIL, simulators.operator.executionCounts()],
  ]);
  return {
    title: TITLES[settings.backend],
    orders: settings.orders,
    concurrency: settings.concurrency,
    chunkSize: settings.chunkSize,
    intake,
    drain,
    figures,
    executions: [...executionsByRail].map(([rail, counts]) => executionDistribution(rail, figures.railKeys, counts)),
    pain001Messages: pain001MessagesBooked(simulators),
    operatorStats: simulators.operator.stats(),
    coresDuringIntake: coresUsed(beforeIntake.used, afterIntake.used, (afterIntake.at - beforeIntake.at) / 1000),
    coresDuringDrain: coresUsed(afterIntake.used, afterDrain.used, (afterDrain.at - afterIntake.at) / 1000),
  };
}

/** The bank simulator counts no messages, but every booked payment names the pain.001 that carried it. */
function pain001MessagesBooked(simulators: RailSimulators): number {
  return new Set(simulators.bank.bookings().flatMap((booking) => booking.transactions.map((transaction) => transaction.messageId))).size;
}

async function main(): Promise<void> {
  try {
    const measurement = await benchmark(readSettings());
    printRailsReport(measurement);
    process.exitCode = problemsWith(measurement).length === 0 ? 0 : 1;
  } catch (error) {
    console.error(`\nbench:rails failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  }
}

await main();
