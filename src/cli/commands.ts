import { basename } from 'node:path';
import { startSandboxSimulator } from '../../adapters/sandbox/simulator.ts';
import { startSandboxSimulatorThread } from '../../adapters/sandbox/simulator-thread.ts';
import { startWorkers } from '../../workers/index.ts';
import { ConfigError, voucherNumberKey, type Config } from '../config/index.ts';
import { ensureOrganisation, listClients, revokeClient } from '../db/repositories/api-clients.ts';
import { formatMoney } from '../domain/money.ts';
import { start } from '../http/server.ts';
import { createLogger } from '../observability/logger.ts';
import { openRuntime, type Runtime } from '../runtime.ts';
import { createApiClient } from '../services/create-api-client.ts';
import { seedDeployment } from '../services/seed-deployment.ts';
import { seedRailBalances } from '../services/seed-voucher-parties.ts';
import { SeedConflict } from '../services/seed-outcome.ts';
import { reportingProblems } from './reporting-problems.ts';
import { readSeedFile, SeedFileError } from './seed-file.ts';
import { forgetSandboxSimulator, recordSandboxSimulator, sandboxBalanceSetter, seedSandbox } from './sandbox-record.ts';
import { superviseWorkerProcess, WORKERS_READY } from './worker-process.ts';
import type { Scope } from '../domain/scopes.ts';
import { SCOPES } from '../domain/scopes.ts';

const DEMO_ORGANISATION = 'demo';
const DEMO_CLIENT = 'quickstart';
const CLI_ACTOR = { clientId: null, actor: `cli:${process.env.USER ?? 'unknown'}`, sourceIp: null, requestId: null };

function onShutdown(stop: () => Promise<void>): void {
  let stopping = false;
  const handler = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.error(`kassa: ${signal} received, finishing active work…`);
    stop().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => handler('SIGTERM'));
  process.on('SIGINT', () => handler('SIGINT'));
}

function requireSandboxUrl(config: Config): string {
  return config.SANDBOX_RAIL_URL ?? `http://127.0.0.1:${config.SANDBOX_SIMULATOR_PORT}`;
}

/** The database part of a seed is applied, but not every rail balance it names is in place. */
class RailBalancesNotSet extends Error {
  override name = 'RailBalancesNotSet';
}

/** Separate API and worker processes share one database, so they cannot each start an embedded one. */
function requireExternalDatabase(config: Config, role: string): void {
  if (!config.DATABASE_URL) throw new ConfigError(`DATABASE_URL: required for \`kassa ${role}\` (only \`kassa start\` runs an embedded PostgreSQL)`);
}

/** Replaces the previous demo key, so each start prints one that works and leaves no stale ones behind. */
async function issueDemoCredential(runtime: Runtime): Promise<string> {
  const db = runtime.context.db;
  const organisationId = await ensureOrganisation(db, DEMO_ORGANISATION);
  for (const client of await listClients(db, organisationId)) {
    if (client.name === DEMO_CLIENT && !client.revokedAt) await revokeClient(db, organisationId, client.id);
  }
  const created = await createApiClient(db, { organisation: DEMO_ORGANISATION, name: DEMO_CLIENT, scopes: SCOPES }, CLI_ACTOR);
  return created.apiKey;
}

export async function runStart(config: Config): Promise<void> {
  const logger = createLogger(config.LOG_LEVEL);
  const simulator = config.SANDBOX_RAIL_URL ? undefined : await startSandboxSimulatorThread({ port: config.SANDBOX_SIMULATOR_PORT });
  if (simulator) await recordSandboxSimulator(config.KASSA_DATA_DIR, simulator.url);
  const sandboxUrl = config.SANDBOX_RAIL_URL ?? simulator!.url;
  const runtime = await openRuntime(config, { logger, sandboxUrl });
  const workers = superviseWorkerProcess({ ...process.env, DATABASE_URL: runtime.databaseUrl, SANDBOX_RAIL_URL: sandboxUrl }, logger);
  const api = await start(runtime.context, { host: config.HOST, port: config.PORT, publicUrl: config.PUBLIC_URL });
  const demoKey = config.DEMO_CREDENTIAL ? await issueDemoCredential(runtime) : undefined;
  onShutdown(async () => {
    await Promise.all([api.stop(), workers.stop()]);
    await runtime.close();
    await forgetSandboxSimulator(config.KASSA_DATA_DIR);
    await simulator?.close();
  });
  await workers.ready;
  const lines = [
    `Kassa is running at ${api.url}`,
    `  queues:   ${runtime.backend.kind === 'redis' ? 'Redis' : 'PostgreSQL (BullMQ backend)'}`,
    `  database: ${config.DATABASE_URL ? 'DATABASE_URL' : `embedded PostgreSQL in ${config.KASSA_DATA_DIR}`}`,
    `  sandbox rail: ${simulator ? simulator.url : config.SANDBOX_RAIL_URL}`,
    `  API description: ${api.url}/openapi.json`,
  ];
  if (demoKey) {
    lines.push(
      `  demo credential (organisation "${DEMO_ORGANISATION}", every scope): ${demoKey}`,
      '',
      `  curl -X POST ${api.url}/v1/orders -H "Authorization: Bearer ${demoKey}" -H "Idempotency-Key: $(uuidgen || date +%s%N)" \\`,
      `    -H "Content-Type: application/json" -d '{"kind":"benefit","amount":"25.00","currency":"KES","payer":{"type":"bank_account","value":"0011223344"},"payee":{"type":"msisdn","value":"+254712345678"},"reference":"demo"}'`,
    );
  }
  console.log(lines.join('\n'));
}

export async function runApi(config: Config): Promise<void> {
  requireExternalDatabase(config, 'api');
  const runtime = await openRuntime(config, { sandboxUrl: requireSandboxUrl(config) });
  const api = await start(runtime.context, { host: config.HOST, port: config.PORT, publicUrl: config.PUBLIC_URL });
  onShutdown(async () => {
    await api.stop();
    await runtime.close();
  });
  runtime.context.logger.info({ url: api.url }, 'Kassa API listening');
}

export async function runWorker(config: Config): Promise<void> {
  requireExternalDatabase(config, 'worker');
  const runtime = await openRuntime(config, { sandboxUrl: requireSandboxUrl(config) });
  const workers = await startWorkers(runtime.context, runtime.backend);
  onShutdown(async () => {
    await workers.close();
    await runtime.close();
  });
  runtime.context.logger.info({ queues: runtime.backend.kind }, 'Kassa workers running');
  process.send?.(WORKERS_READY);
  // Started by `kassa start`: when that parent is gone (even killed outright), finish up and go too.
  process.once('disconnect', () => process.kill(process.pid, 'SIGTERM'));
}

export async function runMigrate(config: Config): Promise<void> {
  const runtime = await openRuntime(config, { sandboxUrl: requireSandboxUrl(config), migrate: true });
  await runtime.close();
  console.log('migrations are up to date');
}

export async function runSimulator(config: Config): Promise<void> {
  const simulator = await startSandboxSimulator({ port: config.SANDBOX_SIMULATOR_PORT });
  onShutdown(() => simulator.close());
  console.log(`sandbox rail simulator listening at ${simulator.url}`);
}

export async function runClientsCreate(config: Config, options: { org: string; scopes: Scope[]; name: string }): Promise<void> {
  const runtime = await openRuntime(config, { sandboxUrl: requireSandboxUrl(config) });
  try {
    const created = await createApiClient(runtime.context.db, { organisation: options.org, name: options.name, scopes: options.scopes }, CLI_ACTOR);
    console.log(`API key for "${options.name}" in organisation "${options.org}" (scopes: ${options.scopes.join(', ')}); it is shown only now:\n${created.apiKey}`);
  } finally {
    await runtime.close();
  }
}

export async function runSeed(config: Config, file: string): Promise<void> {
  await reportingProblems(async () => {
    const seed = await readSeedFile(file);
    const sandbox = seedSandbox(config);
    const runtime = await openRuntime(config, { sandboxUrl: sandbox.url });
    try {
      const outcome = await seedDeployment(runtime.context.db, seed, { ...CLI_ACTOR, actor: `${CLI_ACTOR.actor} (kassa seed ${basename(file)})` }, voucherNumberKey(config));
      console.log(`seeded ${file}:`);
      for (const [section, counts] of Object.entries(outcome.counts)) {
        console.log(`  ${section.padEnd(14)} ${counts.created} created, ${counts.updated} updated, ${counts.unchanged} unchanged`);
      }
      for (const issued of outcome.issuedKeys) console.log(`  API key for "${issued.client}" in "${issued.organisation}" (shown only now): ${issued.key}`);
      const balances = await seedRailBalances(runtime.context.rails, sandboxBalanceSetter(sandbox), seed.merchants);
      for (const balance of balances) {
        const figure = `${formatMoney(balance.balance)} ${balance.balance.currency}`;
        console.log(`  rail balance of ${balance.merchant} in "${balance.organisation}": ${balance.notSet === undefined ? `${figure}, set on the sandbox rail at ${sandbox.url}` : `${figure} NOT set: ${balance.notSet}`}`);
      }
      const notSet = balances.filter((balance) => balance.notSet !== undefined).length;
      if (notSet > 0) {
        throw new RailBalancesNotSet(`${notSet} of ${balances.length} rail balance(s) not set (see above); the rest of ${file} is applied, and running the seed again once the cause is fixed sets them and changes nothing else`);
      }
    } finally {
      await runtime.close();
    }
  }, (error) => error instanceof SeedFileError || error instanceof SeedConflict || error instanceof RailBalancesNotSet);
}
