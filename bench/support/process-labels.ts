import { readFileSync } from 'node:fs';

/**
 * Names for the CPU report: the bench process, `kassa start` (the API) and the `kassa worker` it forks. Other
 * processes (postgres, redis-server) are reported under their own names. Linux only; elsewhere just the pids given.
 */
export function processLabels(benchPid: number, kassaPid: number, redisPid: number | undefined): Map<number, string> {
  const labels = new Map([
    [benchPid, 'bench (client + rail simulators)'],
    [kassaPid, 'kassa start (API)'],
  ]);
  for (const pid of childPids(kassaPid)) if (commandName(pid) === 'node') labels.set(pid, 'kassa worker');
  if (redisPid !== undefined) labels.set(redisPid, 'redis-server');
  return labels;
}

function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function commandName(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return undefined;
  }
}
