import { availableParallelism, cpus } from 'node:os';
import { MACHINE } from './cpu.ts';
import type { DrainResult } from './drain.ts';
import { formatCounts } from './drain.ts';
import type { LoadResult } from './load.ts';

export interface Measurement {
  readonly title: string;
  readonly connections: number;
  /** The load before the measured one, whose orders must complete too but whose figures are not the result. */
  readonly warmup: LoadResult | undefined;
  readonly load: LoadResult;
  readonly drain: DrainResult;
  readonly coresDuringLoad: ReadonlyMap<string, number>;
  readonly coresDuringDrain: ReadonlyMap<string, number>;
}

const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const oneDecimal = new Intl.NumberFormat('en-US', { minimumFractionDigits: 1, maximumFractionDigits: 1 });

/** What must hold for the figures to count: orders accepted, and every one of them completed. */
export function problemsWith(measurement: Measurement): string[] {
  const { load, drain } = measurement;
  const problems: string[] = [];
  if (load.accepted === 0) problems.push('no order was accepted');
  if (!drain.drained) problems.push('orders were still in progress when the drain timed out');
  if ((drain.counts.failed ?? 0) > 0 || (drain.counts.unknown ?? 0) > 0) problems.push('some orders failed or are unknown');
  if ((drain.counts.completed ?? 0) < load.accepted + (measurement.warmup?.accepted ?? 0)) problems.push('fewer orders completed than were accepted');
  const rejectedInWarmup = Object.values(measurement.warmup?.rejectedByStatus ?? {}).reduce((sum, count) => sum + count, 0);
  if (rejectedInWarmup > 0) problems.push(`${rejectedInWarmup} requests of the warm-up were refused`);
  return problems;
}

export function printReport(measurement: Measurement): void {
  const { load, drain } = measurement;
  const warmup = measurement.warmup;
  const rows: [string, string][] = [
    [
      'warm-up (not in the figures)',
      warmup
        ? `${oneDecimal.format(warmup.durationS)} s, ${integer.format(warmup.accepted)} accepted, ${oneDecimal.format(warmup.accepted / warmup.durationS)}/s, p50 / p99 ${warmup.latencyMs.p50} / ${warmup.latencyMs.p99} ms`
        : 'none',
    ],
    ['load', `${oneDecimal.format(load.durationS)} s, ${measurement.connections} connections, POST /v1/orders (benefit, sandbox rail)`],
    ['accepted orders (201)', integer.format(load.accepted)],
    ['accepted orders/s', oneDecimal.format(load.accepted / load.durationS)],
    ['latency p50 / p99 / max', `${load.latencyMs.p50} / ${load.latencyMs.p99} / ${load.latencyMs.max} ms`],
    ['non-2xx responses', formatRejections(load.rejectedByStatus)],
    ['connection errors / timeouts', `${load.connectionErrors} / ${load.timeouts}`],
    ['all completed after load stop', drain.drained ? `${oneDecimal.format(drain.seconds)} s` : `NOT within ${oneDecimal.format(drain.seconds)} s`],
    ['end to end', `${oneDecimal.format(load.accepted / (load.durationS + drain.seconds))} orders/s accepted and completed over ${oneDecimal.format(load.durationS + drain.seconds)} s (load + drain)`],
    ['failed / unknown (must be 0)', `${drain.counts.failed ?? 0} / ${drain.counts.unknown ?? 0}`],
    ['orders by status', formatCounts(drain.counts)],
    ['CPU cores during load', formatCores(measurement.coresDuringLoad)],
    ['CPU cores during drain', formatCores(measurement.coresDuringDrain)],
    ['machine', `${availableParallelism()} cores (nproc), ${cpus()[0]?.model ?? 'unknown CPU'}`],
  ];
  const width = Math.max(...rows.map(([label]) => label.length));
  console.log(`\n== ${measurement.title} ==`);
  for (const [label, value] of rows) console.log(`  ${label.padEnd(width)}  ${value}`);
  for (const problem of problemsWith(measurement)) console.log(`  !! ${problem}`);
  console.log('');
}

function formatRejections(byStatus: Readonly<Record<string, number>>): string {
  const entries = Object.entries(byStatus);
  const total = entries.reduce((sum, [, count]) => sum + count, 0);
  return entries.length === 0 ? '0' : `${total} (${entries.map(([status, count]) => `${status}: ${count}`).join(', ')})`;
}

/** Busiest first, processes under 0.01 core left out, then the whole machine's use: other load skews the figures. */
export function formatCores(cores: ReadonlyMap<string, number>): string {
  const shown = [...cores].filter(([label, used]) => label !== MACHINE && used >= 0.01).sort(([, a], [, b]) => b - a);
  if (shown.length === 0) return 'n/a';
  const machine = cores.get(MACHINE);
  const total = machine === undefined ? '' : `; whole machine ${machine.toFixed(2)} of ${availableParallelism()}`;
  return `${shown.map(([label, used]) => `${label} ${used.toFixed(2)}`).join(', ')}${total}`;
}
