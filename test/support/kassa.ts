import type { DestinationStream } from 'pino';
import { startSandboxSimulator, type SandboxSimulator } from '../../adapters/sandbox/simulator.ts';
import { startWorkers, type RunningWorkers } from '../../workers/index.ts';
import { loadConfig, type Config } from '../../src/config/index.ts';
import type { Scope } from '../../src/domain/scopes.ts';
import { start, type ApiServer } from '../../src/http/server.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { openRuntime, type Runtime } from '../../src/runtime.ts';
import { createApiClient } from '../../src/services/create-api-client.ts';
import { createTestDatabase } from './database.ts';
import { freePort } from './ports.ts';
import { startRedis, type TestRedis } from './redis.ts';

export type QueueBackendName = 'postgres' | 'redis';
export const QUEUE_BACKENDS: readonly QueueBackendName[] = ['postgres', 'redis'];

export interface TestKassa {
  readonly url: string;
  readonly databaseUrl: string;
  readonly redis: TestRedis | undefined;
  readonly simulator: SandboxSimulator;
  readonly runtime: Runtime;
  readonly config: Config;
  /** Environment that makes a child `kassa worker` join this Kassa. */
  readonly childEnvironment: Record<string, string>;
  issueKey(organisation: string, scopes: readonly Scope[]): Promise<string>;
  startWorkers(): Promise<RunningWorkers>;
  stop(): Promise<void>;
}

/** Settings that make recovery visible within a test's time rather than production's. */
export const FAST_RECOVERY: Partial<Record<keyof Config, string>> = {
  SWEEPER_INTERVAL_MS: '500',
  SWEEPER_STALE_AFTER_MS: '1500',
  INQUIRY_BASE_DELAY_MS: '200',
  INQUIRY_MAX_DELAY_MS: '1000',
  WEBHOOK_BASE_DELAY_MS: '200',
  RAIL_TIMEOUT_MS: '1000',
  OUTBOX_POLL_MS: '20',
  WORKER_LOCK_MS: '4000',
  CIRCUIT_COOLDOWN_MS: '1000',
};

/**
 * A whole Kassa for one suite: its own database, its own Redis when asked, its own sandbox rail, the API on a
 * free port, and (unless `workers: false`) the workers in this process. `logTo` receives the log lines at
 * LOG_LEVEL (set it in `env`), for tests of what Kassa logs.
 */
export async function startTestKassa(options: { backend: QueueBackendName; workers?: boolean; env?: Record<string, string>; logTo?: DestinationStream } = { backend: 'postgres' }): Promise<TestKassa> {
  const database = await createTestDatabase();
  const redis = options.backend === 'redis' ? await startRedis() : undefined;
  const simulator = await startSandboxSimulator();
  // The API's port is fixed before start, so the callback URLs that rails are given point at it.
  const port = await freePort();
  const environment: Record<string, string> = {
    PORT: String(port),
    NODE_ENV: 'test',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    DATABASE_URL: database.url,
    SANDBOX_RAIL_URL: simulator.url,
    DEMO_CREDENTIAL: 'false',
    ...FAST_RECOVERY,
    ...(redis ? { REDIS_URL: redis.url } : {}),
    ...options.env,
  };
  const config = loadConfig(environment);
  const runtime = await openRuntime(config, { logger: createLogger(config.LOG_LEVEL, options.logTo), sandboxUrl: simulator.url });
  const running: RunningWorkers[] = [];
  const launchWorkers = async () => {
    const workers = await startWorkers(runtime.context, runtime.backend);
    running.push(workers);
    return workers;
  };
  if (options.workers !== false) await launchWorkers();
  const api: ApiServer = await start(runtime.context, { host: '127.0.0.1', port });
  return {
    url: api.url,
    databaseUrl: database.url,
    redis,
    simulator,
    runtime,
    config,
    childEnvironment: environment,
    issueKey: async (organisation, scopes) =>
      (await createApiClient(runtime.context.db, { organisation, name: `test-${organisation}`, scopes }, { clientId: null, actor: 'test', sourceIp: null, requestId: null })).apiKey,
    startWorkers: launchWorkers,
    async stop() {
      await api.stop();
      await Promise.all(running.map((workers) => workers.close()));
      await runtime.close();
      await simulator.close();
      await redis?.stop();
      await database.drop();
    },
  };
}

/** Polls until `check` returns a value other than undefined, or fails with what it last saw. */
export async function eventually<T>(check: () => Promise<T | undefined>, options: { timeoutMs?: number; intervalMs?: number; what?: string } = {}): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 20_000);
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${options.what ?? 'a condition'}`);
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 100));
  }
}

/** The order as the API shows it, once it has reached `status`. */
export function orderReaching(api: { get(path: string): Promise<{ body: { status: string } }> }, id: string, status: string) {
  return eventually(async () => {
    const order = await api.get(`/v1/orders/${id}`);
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read the API's JSON as it comes
    return order.body.status === status ? (order.body as any) : undefined;
  }, { what: `order ${id} to be ${status}` });
}

/** The key the order travels under on its rail, which simulators count executions by. */
export async function railKeyOf(kassa: TestKassa, orderId: string): Promise<string> {
  return (await kassa.runtime.context.db('orders').where({ id: orderId }).first()).rail_key as string;
}
