import { createPostgresBackend, createRedisBackend, withBackend, type BackendClasses, type IQueueBackend } from 'bullmq';
import { Redis } from 'ioredis';

export type QueueBackendKind = 'postgres' | 'redis';

/** The BullMQ classes bound to one datastore; the rest of Kassa is the same on both. */
export interface QueueBackend {
  readonly kind: QueueBackendKind;
  readonly classes: BackendClasses<IQueueBackend, unknown>;
  readonly connection: unknown;
  close(): Promise<void>;
}

export type BoundQueue = InstanceType<QueueBackend['classes']['Queue']>;
export type BoundWorker = InstanceType<QueueBackend['classes']['Worker']>;

export function createQueueBackend(options: { redisUrl?: string; databaseUrl: string; schema: string }): QueueBackend {
  if (options.redisUrl) {
    // BullMQ's blocking commands need ioredis to retry forever rather than fail a pending request.
    const connection = new Redis(options.redisUrl, { maxRetriesPerRequest: null });
    return {
      kind: 'redis',
      classes: withBackend(createRedisBackend) as unknown as BackendClasses<IQueueBackend, unknown>,
      connection,
      close: async () => {
        connection.disconnect();
      },
    };
  }
  const connection = { connectionString: options.databaseUrl, schema: options.schema, migrate: true, max: 10 };
  return {
    kind: 'postgres',
    classes: withBackend(createPostgresBackend) as unknown as BackendClasses<IQueueBackend, unknown>,
    connection,
    close: async () => undefined,
  };
}
