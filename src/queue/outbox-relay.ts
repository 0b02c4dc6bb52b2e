import type { Logger } from 'pino';
import type { Database } from '../db/knex.ts';
import { moveOrders } from '../db/repositories/orders.ts';
import type { QueueProducers } from './producers.ts';

const BATCH = 5000;

/**
 * Moves committed work from the outbox table into the dispatch queues, one job per chunk of orders.
 * Rows are locked with SKIP LOCKED so any number of relays can run side by side, and deleted only in
 * the transaction that enqueued them: a crash in between re-enqueues under the same job id.
 */
export class OutboxRelay {
  private running = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;

  constructor(
    private readonly db: Database,
    private readonly queues: QueueProducers,
    private readonly options: { chunkSize: number; pollMs: number; logger: Logger },
  ) {}

  async relayOnce(): Promise<number> {
    return this.db.transaction(async (trx) => {
      const rows = (await trx('outbox').select('id', 'order_id', 'rail').orderBy('id').limit(BATCH).forUpdate().skipLocked()) as { id: string; order_id: string; rail: string }[];
      if (rows.length === 0) return 0;
      await moveOrders(trx, 'queued', rows.map((row) => ({ id: row.order_id })));
      const byRail = new Map<string, typeof rows>();
      for (const row of rows) byRail.set(row.rail, [...(byRail.get(row.rail) ?? []), row]);
      for (const [rail, railRows] of byRail) {
        const chunks = [];
        for (let start = 0; start < railRows.length; start += this.options.chunkSize) {
          const chunk = railRows.slice(start, start + this.options.chunkSize);
          chunks.push({ jobId: `outbox-${chunk[0]!.id}-${chunk.at(-1)!.id}`, data: { orderIds: chunk.map((row) => row.order_id) } });
        }
        await this.queues.dispatch(rail, chunks);
      }
      await trx('outbox').whereIn('id', rows.map((row) => row.id)).delete();
      return rows.length;
    });
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
  }

  private async run(): Promise<void> {
    while (this.running) {
      let relayed = 0;
      try {
        relayed = await this.relayOnce();
      } catch (error) {
        this.options.logger.error({ err: error }, 'outbox relay failed; retrying');
      }
      if (relayed < BATCH && this.running) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, this.options.pollMs);
          this.wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
    }
  }
}
