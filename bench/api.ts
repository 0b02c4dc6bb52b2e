/**
 * `npm run bench:api [-- --duration 30 --connections 50 --warmup 5 --backend postgres|redis|both --profile DIR]`
 *
 * Starts Kassa as a user would (`kassa start`: API, workers and sandbox rail over an embedded PostgreSQL),
 * loads POST /v1/orders with autocannon, then times how long the pipeline takes to complete every accepted
 * order — once with the queues on BullMQ's PostgreSQL backend, once on a private Redis. A warm-up at the same
 * load comes first and is reported on its own: the figures are those of a running service, not of one
 * still compiling its code and opening its database connections.
 */
import { parseArgs } from 'node:util';
import { coresUsed, snapshotCpu } from './support/cpu.ts';
import { waitUntilAllFinal } from './support/drain.ts';
import { startKassa, type KassaProcess } from './support/kassa-process.ts';
import { postOrders, type LoadResult } from './support/load.ts';
import { REDIS_INSTALL_HINT, redisServerInstalled, startRedisServer, type RedisServer } from './support/redis-server.ts';
import { printReport, problemsWith, type Measurement } from './support/report.ts';

type Backend = 'postgres' | 'redis';

interface Settings {
  readonly durationS: number;
  readonly connections: number;
  readonly warmupS: number;
  readonly backends: readonly Backend[];
  /** Where Kassa's process writes a V8 CPU profile (--cpu-prof), when asked. */
  readonly profileDir: string | undefined;
}

const TITLES: Record<Backend, string> = {
  postgres: 'queues on PostgreSQL (BullMQ backend, embedded default)',
  redis: 'queues on Redis',
};
const DRAIN_TIMEOUT_MS = 10 * 60_000;

function readSettings(): Settings {
  const { values } = parseArgs({
    options: {
      duration: { type: 'string', default: '30' },
      connections: { type: 'string', default: '50' },
      warmup: { type: 'string', default: '5' },
      backend: { type: 'string', default: 'both' },
      profile: { type: 'string' },
    },
  });
  const backends: Record<string, Backend[]> = { postgres: ['postgres'], redis: ['redis'], both: ['postgres', 'redis'] };
  const chosen = backends[values.backend];
  if (!chosen) throw new Error(`--backend: expected postgres, redis or both, got "${values.backend}"`);
  return {
    durationS: wholeNumber('--duration', values.duration, 1),
    connections: wholeNumber('--connections', values.connections, 1),
    warmupS: wholeNumber('--warmup', values.warmup, 0),
    backends: chosen,
    profileDir: values.profile,
  };
}

function wholeNumber(flag: string, text: string, least: number): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < least) throw new Error(`${flag}: expected a whole number of at least ${least}, got "${text}"`);
  return value;
}

async function benchmark(backend: Backend, settings: Settings): Promise<Measurement | undefined> {
  if (backend === 'redis' && !redisServerInstalled()) {
    console.log(`\n== ${TITLES.redis} ==\n  skipped: ${REDIS_INSTALL_HINT}\n`);
    return undefined;
  }
  console.log(`\n${TITLES[backend]}: starting Kassa…`);
  const redis = backend === 'redis' ? await startRedisServer() : undefined;
  try {
    const kassa = await startKassa({ redisUrl: redis?.url, profileDir: settings.profileDir });
    try {
      return await measure(TITLES[backend], kassa, redis, settings);
    } finally {
      await kassa.stop();
    }
  } finally {
    await redis?.stop();
  }
}

async function measure(title: string, kassa: KassaProcess, redis: RedisServer | undefined, settings: Settings): Promise<Measurement> {
  const labels = new Map([[process.pid, 'bench (autocannon)'], [kassa.pid, 'kassa (node)']]);
  if (redis) labels.set(redis.pid, 'redis-server');
  const cpu = () => ({ at: performance.now(), used: snapshotCpu(process.pid, labels) });

  const target = { url: kassa.url, apiKey: kassa.apiKey, connections: settings.connections };
  let warmup: LoadResult | undefined;
  if (settings.warmupS > 0) {
    console.log(`  ${kassa.url}: warm-up, POST /v1/orders for ${settings.warmupS} s at ${settings.connections} connections…`);
    warmup = await postOrders({ ...target, durationS: settings.warmupS });
  }
  console.log(`  ${kassa.url}: POST /v1/orders for ${settings.durationS} s at ${settings.connections} connections…`);
  const beforeLoad = cpu();
  const load = await postOrders({ ...target, durationS: settings.durationS });
  const afterLoad = cpu();
  console.log(`  ${load.accepted} orders accepted; waiting until every order is final…`);
  const drain = await waitUntilAllFinal(kassa.databaseUrl, kassa.pid, DRAIN_TIMEOUT_MS);
  const afterDrain = cpu();
  return {
    title,
    connections: settings.connections,
    warmup,
    load,
    drain,
    coresDuringLoad: coresUsed(beforeLoad.used, afterLoad.used, (afterLoad.at - beforeLoad.at) / 1000),
    coresDuringDrain: coresUsed(afterLoad.used, afterDrain.used, (afterDrain.at - afterLoad.at) / 1000),
  };
}

async function main(): Promise<void> {
  const settings = readSettings();
  let clean = true;
  for (const backend of settings.backends) {
    const measurement = await benchmark(backend, settings);
    if (!measurement) continue;
    printReport(measurement);
    clean &&= problemsWith(measurement).length === 0;
  }
  process.exitCode = clean ? 0 : 1;
}

await main();
