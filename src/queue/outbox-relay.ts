import type { Logger } from 'pino';
import type { Database } from '../db/knex.ts';
import { moveOrders } from '../db/repositories/orders.ts';
import type { QueueProducers } from './producers.ts';

const BATCH = 5000;

interface OutboxRow {
  readonly id: string;
  readonly order_id: string;
  readonly rail: string;
}

/**
 * Moves committed work from the outbox table into the dispatch queues, one job per chunk of orders.
 * Rows are locked with SKIP LOCKED so any number of relays can run side by side, and deleted only in
 * the transaction that enqueued them: a crash in between re-enqueues under the same job id.
 *
 * A rail with at least a full chunk waiting gets whole chunks only; its newest orders, fewer than a chunk, wait
 * for the next look, where they go first. Under load a look finds a chunk and a bit (600 orders at 3,000 a
 * second), and the bit made a job of its own, with the cost of a whole one in queue and status statements.
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

  /** Relays what is waiting; answers how many outbox rows it found, relayed or left for the next look. */
  async relayOnce(): Promise<number> {
    return this.db.transaction(async (trx) => {
      const rows = (await trx('outbox').select('id', 'order_id', 'rail').orderBy('id').limit(BATCH).forUpdate().skipLocked()) as OutboxRow[];
      const rowsByRail = new Map<string, OutboxRow[]>();
      for (const row of rows) {
        const railRows = rowsByRail.get(row.rail);
        if (railRows) railRows.push(row);
        else rowsByRail.set(row.rail, [row]);
      }
      const byRail = [...rowsByRail].map(([rail, railRows]) => [rail, chunksToSend(railRows, this.options.chunkSize)] as const);
      const relayed = byRail.flatMap(([, chunks]) => chunks.flat());
      if (relayed.length === 0) return rows.length;
      await moveOrders(trx, 'queued', relayed.map((row) => ({ id: row.order_id })));
      for (const [rail, chunks] of byRail) {
        await this.queues.dispatch(rail, chunks.map((chunk) => ({ jobId: `outbox-${chunk[0]!.id}-${chunk.at(-1)!.id}`, data: { orderIds: chunk.map((row) => row.order_id) } })));
      }
      await trx('outbox').whereIn('id', relayed.map((row) => row.id)).delete();
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
      let found = 0;
      try {
        found = await this.relayOnce();
      } catch (error) {
        this.options.logger.error({ err: error }, 'outbox relay failed; retrying');
      }
      if (found < BATCH && this.running) {
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

/** A rail's waiting rows in chunks of `size`; when more than one chunk waits, a last chunk short of `size` stays. */
function chunksToSend(rows: readonly OutboxRow[], size: number): OutboxRow[][] {
  const chunks: OutboxRow[][] = [];
  for (let start = 0; start < rows.length; start += size) chunks.push(rows.slice(start, start + size));
  if (chunks.length > 1 && chunks.at(-1)!.length < size) chunks.pop();
  return chunks;
}
