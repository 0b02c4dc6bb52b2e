import { z } from 'zod';

const booleanFlag = z.enum(['true', 'false']).transform((value) => value === 'true');
const port = z.coerce.number().int().min(0).max(65535);
const positiveMs = z.coerce.number().int().positive();

const environmentSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: port.default(8080),
  PUBLIC_URL: z.url().optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  DATABASE_URL: z.url().optional(),
  DATABASE_POOL_MAX: z.coerce.number().int().min(2).max(200).default(20),
  KASSA_DATA_DIR: z.string().min(1).default('./.kassa'),
  EMBEDDED_POSTGRES_PORT: port.default(54329),
  REDIS_URL: z.url().optional(),
  QUEUE_SCHEMA: z.string().regex(/^[a-z_][a-z0-9_]*$/).default('kassa_queues'),
  WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(8),
  DISPATCH_CHUNK_SIZE: z.coerce.number().int().min(1).max(2000).default(500),
  OUTBOX_POLL_MS: positiveMs.default(50),
  SWEEPER_INTERVAL_MS: positiveMs.default(15_000),
  SWEEPER_STALE_AFTER_MS: positiveMs.default(60_000),
  RAIL_TIMEOUT_MS: positiveMs.default(10_000),
  INQUIRY_BASE_DELAY_MS: positiveMs.default(2_000),
  INQUIRY_MAX_DELAY_MS: positiveMs.default(300_000),
  WEBHOOK_TIMEOUT_MS: positiveMs.default(5_000),
  WEBHOOK_BASE_DELAY_MS: positiveMs.default(10_000),
  WEBHOOK_RETRY_WINDOW_MS: positiveMs.default(24 * 60 * 60 * 1000),
  RATE_LIMIT_PER_MINUTE: z.coerce.number().int().positive().default(120_000),
  AUTH_CACHE_TTL_MS: z.coerce.number().int().min(0).default(5_000),
  SANDBOX_RAIL_URL: z.url().optional(),
  SANDBOX_SIMULATOR_PORT: port.default(8090),
  DEMO_CREDENTIAL: booleanFlag.default(true),
});

export type Config = Readonly<z.infer<typeof environmentSchema>>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Reads and validates the environment once; every other module receives the frozen result. */
export function loadConfig(environment: NodeJS.ProcessEnv = process.env, overrides: Partial<Config> = {}): Config {
  const present = Object.fromEntries(Object.entries(environment).filter(([, value]) => value !== undefined && value !== ''));
  const parsed = environmentSchema.safeParse(present);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`invalid configuration — ${problems.join('; ')}`);
  }
  return Object.freeze({ ...parsed.data, ...overrides });
}
