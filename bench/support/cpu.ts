import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** CPU seconds used so far, by label: the given label for a known pid, else the process name (postgres…). */
export type CpuSnapshot = ReadonlyMap<string, number>;

interface ProcStat {
  readonly pid: number;
  readonly ppid: number;
  readonly name: string;
  readonly cpuSeconds: number;
}

/** The label under which a snapshot carries the CPU seconds of every process on the machine, ours or not. */
export const MACHINE = 'machine';

const CLOCK_TICKS = Number(spawnSync('getconf', ['CLK_TCK']).stdout?.toString().trim()) || 100;

/** Over the process tree of `root`. Linux only (reads /proc); elsewhere an empty snapshot. */
export function snapshotCpu(root: number, labels: ReadonlyMap<number, string>): CpuSnapshot {
  const stats = readAllStats();
  const inTree = descendantsOf(root, stats);
  const byLabel = new Map<string, number>();
  for (const stat of stats) {
    if (!inTree.has(stat.pid)) continue;
    const label = labels.get(stat.pid) ?? stat.name;
    byLabel.set(label, (byLabel.get(label) ?? 0) + stat.cpuSeconds);
  }
  const machine = machineBusySeconds();
  if (machine !== undefined) byLabel.set(MACHINE, machine);
  return byLabel;
}

/** From the first line of /proc/stat: all time not idle or waiting for I/O. */
function machineBusySeconds(): number | undefined {
  try {
    const [, ...fields] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/);
    const [user, nice, system, , , irq, softirq, steal] = fields.map(Number);
    return [user, nice, system, irq, softirq, steal].reduce<number>((sum, ticks) => sum + (ticks ?? 0), 0) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}

/** Cores used by each process name between two snapshots; processes that exited in between are not counted. */
export function coresUsed(before: CpuSnapshot, after: CpuSnapshot, wallSeconds: number): Map<string, number> {
  const cores = new Map<string, number>();
  for (const [name, seconds] of after) cores.set(name, (seconds - (before.get(name) ?? 0)) / wallSeconds);
  return cores;
}

function readAllStats(): ProcStat[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc').filter((entry) => /^\d+$/.test(entry));
  } catch {
    return [];
  }
  return entries.map(readStat).filter((stat): stat is ProcStat => stat !== undefined);
}

function readStat(pid: string): ProcStat | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The name is in parentheses and may itself hold spaces or parentheses; the fields after the last ')' are fixed.
    const close = text.lastIndexOf(')');
    const name = text.slice(text.indexOf('(') + 1, close);
    const fields = text.slice(close + 2).split(' ');
    const ppid = Number(fields[1]);
    const ticks = Number(fields[11]) + Number(fields[12]);
    return { pid: Number(pid), ppid, name, cpuSeconds: ticks / CLOCK_TICKS };
  } catch {
    return undefined; // the process exited while we listed /proc
  }
}

function descendantsOf(root: number, stats: readonly ProcStat[]): Set<number> {
  const tree = new Set([root]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const stat of stats) {
      if (!tree.has(stat.pid) && tree.has(stat.ppid)) {
        tree.add(stat.pid);
        grew = true;
      }
    }
  }
  return tree;
}
