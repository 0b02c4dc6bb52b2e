import pg from 'pg';
import { FINAL_STATUSES } from '../../src/domain/order-status.ts';

const FINAL = new Set<string>(FINAL_STATUSES);
const POLL_MS = 250;
const PROGRESS_EVERY_MS = 5_000;

export type StatusCounts = Readonly<Record<string, number>>;

export interface DrainResult {
  readonly seconds: number;
  readonly counts: StatusCounts;
  readonly drained: boolean;
}

/**
 * Polls the orders table until no order is short of a final status (or `timeoutMs` passes). It stops with a
 * clear error when `kassa start` is gone, whose embedded PostgreSQL goes with it, instead of polling a
 * database that no longer answers.
 */
export async function waitUntilAllFinal(databaseUrl: string, kassaPid: number, timeoutMs: number): Promise<DrainResult> {
  const client = new pg.Client({ connectionString: databaseUrl });
  client.on('error', () => undefined); // a lost connection also fails the next query, which reports it
  await client.connect();
  try {
    const started = performance.now();
    let lastProgress = started;
    for (;;) {
      if (!isRunning(kassaPid)) throw new Error(`kassa start (pid ${kassaPid}) exited while orders were in progress`);
      const counts = await countByStatus(client).catch((error: Error) => {
        throw new Error(`lost Kassa's database while orders were in progress (is kassa start shutting down?): ${error.message}`);
      });
      const elapsed = performance.now() - started;
      const drained = pending(counts) === 0;
      if (drained || elapsed >= timeoutMs) return { seconds: elapsed / 1000, counts, drained };
      if (performance.now() - lastProgress >= PROGRESS_EVERY_MS) {
        lastProgress = performance.now();
        console.log(`  draining ${(elapsed / 1000).toFixed(0)} s: ${formatCounts(counts)}`);
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  } finally {
    await client.end().catch(() => undefined);
  }
}

export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function countByStatus(client: pg.Client): Promise<StatusCounts> {
  const { rows } = await client.query<{ status: string; count: string }>('SELECT status, count(*) AS count FROM orders GROUP BY status');
  return Object.fromEntries(rows.map((row) => [row.status, Number(row.count)]));
}

function pending(counts: StatusCounts): number {
  return Object.entries(counts).reduce((sum, [status, count]) => (FINAL.has(status) ? sum : sum + count), 0);
}

export function formatCounts(counts: StatusCounts): string {
  return Object.entries(counts).map(([status, count]) => `${status} ${count}`).join(', ') || 'no orders';
}
