import type { Logger } from 'pino';
import type { RailRegistry } from '../../adapters/registry.ts';
import type { Config } from '../config/index.ts';
import type { GroupCommit } from '../db/group-commit.ts';
import type { Database } from '../db/knex.ts';
import type { NewOrder } from '../db/repositories/orders.ts';
import type { QueueProducers } from '../queue/producers.ts';
import type { Metrics } from '../observability/metrics.ts';

/** What a use case may touch; each service takes it as an argument so tests hand in real parts of their own. */
export interface ServiceContext {
  readonly config: Config;
  readonly db: Database;
  /** Order writes, committed in groups under load. */
  readonly orderWrites: GroupCommit<NewOrder, boolean>;
  readonly rails: RailRegistry;
  readonly queues: QueueProducers;
  readonly logger: Logger;
  readonly metrics: Metrics;
}
