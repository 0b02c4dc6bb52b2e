import { childPids, commandName } from './proc.ts';

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
