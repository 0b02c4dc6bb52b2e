import type { Logger } from 'pino';
import { loadRailPackages } from '../adapters/packages.ts';
import { createRailRegistry } from '../adapters/registry.ts';
import type { Config } from './config/index.ts';
import { startEmbeddedPostgres, type EmbeddedDatabase } from './db/embedded-postgres.ts';
import { createDatabase } from './db/knex.ts';
import { migrateToLatest } from './db/migrate.ts';
import { GroupCommit } from './db/group-commit.ts';
import { countOrdersByStatus, insertOrders, type NewOrder } from './db/repositories/orders.ts';
import { createLogger } from './observability/logger.ts';
import { Metrics } from './observability/metrics.ts';
import { createQueueBackend, type QueueBackend } from './queue/backend.ts';
import { allQueueNames } from './queue/names.ts';
import { QueueProducers } from './queue/producers.ts';
import type { ServiceContext } from './services/context.ts';

export interface Runtime {
  readonly context: ServiceContext;
  readonly backend: QueueBackend;
  readonly databaseUrl: string;
  close(): Promise<void>;
}

/**
 * Wires Kassa's parts from configuration: PostgreSQL (external, or embedded under KASSA_DATA_DIR), migrations,
 * the queue datastore (Redis with REDIS_URL, otherwise BullMQ's PostgreSQL backend in the same database),
 * the rails and the metrics.
 */
export async function openRuntime(config: Config, options: { logger?: Logger; sandboxUrl: string; migrate?: boolean }): Promise<Runtime> {
  const logger = options.logger ?? createLogger(config.LOG_LEVEL);
  let embedded: EmbeddedDatabase | undefined;
  let databaseUrl = config.DATABASE_URL;
  if (!databaseUrl) {
    embedded = await startEmbeddedPostgres({ dataDir: config.KASSA_DATA_DIR, port: config.EMBEDDED_POSTGRES_PORT, onLog: (line) => logger.debug({ postgres: line }, 'embedded postgres') });
    databaseUrl = embedded.url;
  }
  const db = createDatabase(databaseUrl, config.DATABASE_POOL_MAX);
  if (options.migrate ?? true) {
    const applied = await migrateToLatest(db);
    if (applied.length > 0) logger.info({ applied }, 'migrations applied');
  }
  const backend = createQueueBackend({ redisUrl: config.REDIS_URL, databaseUrl, schema: config.QUEUE_SCHEMA });
  const queues = new QueueProducers(backend);
  const rails = createRailRegistry(config, { sandbox: { baseUrl: options.sandboxUrl } }, await loadRailPackages(config.RAIL_PACKAGES));
  const metrics = new Metrics();
  metrics.attach({ ordersByStatus: () => countOrdersByStatus(db), queueDepths: () => queues.depth(allQueueNames(rails.ids())) });
  const orderWrites = new GroupCommit<NewOrder, boolean>((orders) => insertOrders(db, orders), {
    maxBatch: 500,
    // One statement in flight: writes arriving meanwhile pile into the next, larger one, which costs
    // PostgreSQL far less per order than several small statements side by side (measured with bench:api).
    maxConcurrent: 1,
    conflictKey: (write) => `${write.order.organisationId}:${write.idempotencyKey}`,
    flushOne: async (write) => (await insertOrders(db, [write]))[0]!,
  });
  const context: ServiceContext = { config, db, orderWrites, rails, queues, logger, metrics };
  return {
    context,
    backend,
    databaseUrl,
    async close() {
      await queues.close();
      await backend.close();
      await rails.close();
      await db.destroy();
      await embedded?.stop();
    },
  };
}
