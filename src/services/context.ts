import type { Logger } from 'pino';
import type { RailRegistry } from '../../adapters/registry.ts';
import type { Config } from '../config/index.ts';
import type { Database } from '../db/knex.ts';
import type { QueueProducers } from '../queue/producers.ts';
import type { Metrics } from '../observability/metrics.ts';

/** What a use case may touch; each service takes it as an argument so tests hand in real parts of their own. */
export interface ServiceContext {
  readonly config: Config;
  readonly db: Database;
  readonly rails: RailRegistry;
  readonly queues: QueueProducers;
  readonly logger: Logger;
  readonly metrics: Metrics;
}
