import { readFileSync } from 'node:fs';

// What the benches read of other processes from /proc. Linux only: elsewhere, and for a process that has
// exited meanwhile, a process has no children and no name.

/** The pids of the process's direct children. */
export function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** The process's command name, as `ps -o comm` shows it (e.g. `node`, `postgres`). */
export function commandName(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return undefined;
  }
}
