import { z } from 'zod';

const booleanFlag = z.enum(['true', 'false']).transform((value) => value === 'true');
const port = z.coerce.number().int().min(0).max(65535);
const positiveMs = z.coerce.number().int().positive();
const timeZone = z.string().refine((name) => {
  try {
    new Intl.DateTimeFormat('en', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}, 'must be an IANA time zone name such as Africa/Nairobi');

/** One row of the routing table: the first route whose fields all match an order picks its rail. */
const railRoutesSchema = z.array(
  z.strictObject({
    rail: z.string().min(1),
    partyType: z.enum(['msisdn', 'iban', 'bank_account', 'functional_id', 'card']).optional(),
    /** Bank BIC, operator code, or an MSISDN prefix such as "+2547". */
    institution: z.string().min(1).optional(),
    currency: z.string().length(3).optional(),
    direction: z.enum(['disbursement', 'collection']).optional(),
    /** A second rail for the same orders, used while this one's circuit is open (see RAIL_FAILOVER_DISBURSEMENTS). */
    fallback: z.string().min(1).optional(),
  }),
);
export type RailRoute = z.infer<typeof railRoutesSchema>[number];

/** When each rail's statement is pulled and reconciled: a cron pattern (e.g. end of day) or an interval in ms. */
const reconSchedulesSchema = z.array(
  z.strictObject({
    rail: z.string().min(1),
    cron: z.string().min(1).optional(),
    every: z.number().int().min(1000).optional(),
    /** Days before today the pulled statement also covers (late bookings); default 0: today only. */
    lookbackDays: z.number().int().min(0).max(31).optional(),
  }).refine((schedule) => (schedule.cron === undefined) !== (schedule.every === undefined), 'give either cron or every'),
);
export type ReconSchedule = z.infer<typeof reconSchedulesSchema>[number];

/** Variables that configure Kassa itself rather than one rail's adapter. */
const CORE_RAIL_VARIABLES = new Set(['RAILS', 'RAIL_ROUTES', 'RAIL_PACKAGES', 'RAIL_TIMEOUT_MS', 'RAIL_FAILOVER_DISBURSEMENTS']);

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
  WORKER_LOCK_MS: z.coerce.number().int().min(1000).default(30_000),
  DISPATCH_CHUNK_SIZE: z.coerce.number().int().min(1).max(2000).default(500),
  OUTBOX_POLL_MS: positiveMs.default(200),
  SWEEPER_INTERVAL_MS: positiveMs.default(15_000),
  SWEEPER_STALE_AFTER_MS: positiveMs.default(60_000),
  RAIL_TIMEOUT_MS: positiveMs.default(10_000),
  INQUIRY_BASE_DELAY_MS: positiveMs.default(2_000),
  INQUIRY_MAX_DELAY_MS: positiveMs.default(300_000),
  WEBHOOK_TIMEOUT_MS: positiveMs.default(5_000),
  WEBHOOK_BASE_DELAY_MS: positiveMs.default(10_000),
  WEBHOOK_RETRY_WINDOW_MS: positiveMs.default(24 * 60 * 60 * 1000),
  BILL_SOURCE_TIMEOUT_MS: positiveMs.default(5_000),
  RTP_EXPIRY_MS: positiveMs.default(24 * 60 * 60 * 1000),
  RATE_LIMIT_PER_MINUTE: z.coerce.number().int().positive().default(120_000),
  AUTH_CACHE_TTL_MS: z.coerce.number().int().min(0).default(5_000),
  SANDBOX_RAIL_URL: z.url().optional(),
  SANDBOX_SIMULATOR_PORT: port.default(8090),
  RAILS: z
    .string()
    .regex(/^[a-z0-9-]+(,[a-z0-9-]+)*$/, 'a comma-separated list of rail ids such as sandbox,bank-iso20022')
    .default('sandbox')
    .transform((list) => list.split(',')),
  RAIL_PACKAGES: z
    .string()
    .default('')
    .transform((list) => list.split(',').map((name) => name.trim()).filter(Boolean)),
  RAIL_ROUTES: z
    .string()
    .optional()
    .transform((text, context) => {
      if (text === undefined) return undefined;
      try {
        return railRoutesSchema.parse(JSON.parse(text));
      } catch (error) {
        context.addIssue({ code: 'custom', message: `must be a JSON array of routes: ${(error as Error).message}` });
        return z.NEVER;
      }
    }),
  RAIL_FAILOVER_DISBURSEMENTS: booleanFlag.default(false),
  CIRCUIT_FAILURE_THRESHOLD: z.coerce.number().int().min(1).default(5),
  CIRCUIT_COOLDOWN_MS: positiveMs.default(30_000),
  DEMO_CREDENTIAL: booleanFlag.default(true),
  BATCH_CHUNK_ROWS: z.coerce.number().int().min(10).max(10_000).default(1000),
  BATCH_CHUNK_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(4),
  BATCH_MONITOR_MS: positiveMs.default(2_000),
  RECON_MISSING_AFTER_DAYS: z.coerce.number().int().min(0).max(365).default(2),
  RECON_VALUE_DATE_WINDOW_DAYS: z.coerce.number().int().min(0).max(31).default(2),
  STATEMENT_MAX_XML_BYTES: z.coerce.number().int().min(1024).default(64 * 1024 * 1024),
  REPORT_TIMEZONE: timeZone.default('UTC'),
  RECON_SCHEDULES: z
    .string()
    .default('[]')
    .transform((text, context) => {
      try {
        return reconSchedulesSchema.parse(JSON.parse(text));
      } catch (error) {
        context.addIssue({ code: 'custom', message: `must be a JSON array of {"rail","cron"|"every"}: ${(error as Error).message}` });
        return z.NEVER;
      }
    }),
  /** The server secret voucher numbers are hashed with (HMAC-SHA256); only the hash is stored. Required in production. */
  VOUCHER_NUMBER_KEY: z.string().min(32, 'must be a secret of at least 32 characters').optional(),
  VOUCHER_EXPIRY_SWEEP_MS: positiveMs.default(60_000),
}).superRefine((environment, context) => {
  if (environment.NODE_ENV === 'production' && environment.VOUCHER_NUMBER_KEY === undefined) {
    context.addIssue({ code: 'custom', path: ['VOUCHER_NUMBER_KEY'], message: 'is required in production: without it, voucher numbers are hashed under a key anyone can read' });
  }
});

export type Config = Readonly<
  z.infer<typeof environmentSchema> & {
    /** Every RAIL_<ID>_<OPTION> variable, for the rail registry to hand each adapter its own. */
    readonly railSettings: Readonly<Record<string, string>>;
  }
>;

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
  const railSettings = Object.fromEntries(Object.entries(present).filter(([name]) => name.startsWith('RAIL_') && !CORE_RAIL_VARIABLES.has(name))) as Record<string, string>;
  return Object.freeze({ ...parsed.data, railSettings: Object.freeze(railSettings), ...overrides });
}

/** Where rails and clients reach this Kassa: PUBLIC_URL, or the API's own address. */
export function publicBaseUrl(config: Pick<Config, 'PUBLIC_URL' | 'HOST' | 'PORT'>): string {
  return (config.PUBLIC_URL ?? `http://${config.HOST}:${config.PORT}`).replace(/\/+$/, '');
}

/** Outside production a fixed key stands in, so vouchers issued in development survive a restart. */
export function voucherNumberKey(config: Pick<Config, 'VOUCHER_NUMBER_KEY'>): string {
  return config.VOUCHER_NUMBER_KEY ?? 'kassa-development-voucher-number-key-not-a-secret';
}
