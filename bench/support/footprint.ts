import { readFileSync } from 'node:fs';
import pg from 'pg';
import { processLabels } from './process-labels.ts';
import { childPids, commandName } from './proc.ts';

export interface PeakMemory {
  readonly label: string;
  readonly peakBytes: number;
}

/**
 * The peak resident set (VmHWM) of `kassa start`, its worker, and the largest of the embedded PostgreSQL's
 * processes, read from /proc while they still run. Linux only.
 */
export function peakMemory(kassaPid: number): PeakMemory[] {
  const peaks: PeakMemory[] = [];
  for (const [pid, label] of processLabels(process.pid, kassaPid, undefined)) {
    if (pid !== process.pid) peaks.push({ label, peakBytes: peakOf(pid) });
  }
  const postgres = descendants(kassaPid).filter((pid) => commandName(pid) === 'postgres');
  if (postgres.length > 0) peaks.push({ label: `postgres (largest of ${postgres.length})`, peakBytes: Math.max(...postgres.map(peakOf)) });
  return peaks;
}

function peakOf(pid: number): number {
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

function descendants(pid: number): number[] {
  return childPids(pid).flatMap((child) => [child, ...descendants(child)]);
}

export async function databaseSize(databaseUrl: string): Promise<number> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ size: string }>('SELECT pg_database_size(current_database()) AS size');
    return Number(rows[0]!.size);
  } finally {
    await client.end();
  }
}
