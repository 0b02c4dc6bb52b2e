import { availableParallelism, cpus } from 'node:os';
import type { GsmaSimulatorStats } from '../../adapters/gsma-mobile-money/simulator.ts';
import { formatCounts, type DrainResult } from './drain.ts';
import { executedExactlyOnce, type ExecutionDistribution } from './rail-executions.ts';
import type { PipelineFigures, RailFigures } from './rail-figures.ts';
import type { IntakeResult } from './submit-orders.ts';
import { formatCores } from './report.ts';

export interface RailsMeasurement {
  readonly title: string;
  readonly orders: number;
  readonly concurrency: number;
  readonly chunkSize: number;
  readonly intake: IntakeResult;
  readonly drain: DrainResult;
  readonly figures: PipelineFigures;
  readonly executions: readonly ExecutionDistribution[];
  /** Distinct pain.001 MsgIds among the bank's bookings: the messages that carried payments. */
  readonly pain001Messages: number;
  readonly operatorStats: GsmaSimulatorStats;
  readonly coresDuringIntake: ReadonlyMap<string, number>;
  readonly coresDuringDrain: ReadonlyMap<string, number>;
}

const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const oneDecimal = new Intl.NumberFormat('en-US', { minimumFractionDigits: 1, maximumFractionDigits: 1 });
const twoDecimals = new Intl.NumberFormat('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });

/** What must hold for the figures to count: every order accepted, completed, and executed exactly once. */
export function problemsWith(m: RailsMeasurement): string[] {
  const problems: string[] = [];
  if (m.intake.accepted < m.orders) problems.push(`${m.orders - m.intake.accepted} of ${m.orders} orders were not accepted`);
  if (!m.drain.drained) problems.push('orders were still in progress when the drain timed out');
  const completed = m.figures.rails.reduce((sum, rail) => sum + (rail.byStatus.completed ?? 0), 0);
  if (completed < m.intake.accepted) problems.push(`${m.intake.accepted - completed} accepted orders did not complete`);
  for (const distribution of m.executions) {
    if (!executedExactlyOnce(distribution)) problems.push(`${distribution.rail}: not every order was executed exactly once`);
  }
  return problems;
}

export function printRailsReport(m: RailsMeasurement): void {
  const rows: [string, string][] = [
    ['orders', `${integer.format(m.orders)} benefits (half IBAN → bank, half MSISDN → mobile money), ${m.concurrency} requests at once, DISPATCH_CHUNK_SIZE ${m.chunkSize}`],
    ['accepted orders (201)', `${integer.format(m.intake.accepted)} in ${oneDecimal.format(m.intake.seconds)} s = ${oneDecimal.format(m.intake.accepted / m.intake.seconds)} orders/s`],
    ['refused', formatRefusals(m.intake)],
    ['all final after intake', m.drain.drained ? `${oneDecimal.format(m.drain.seconds)} s` : `NOT within ${oneDecimal.format(m.drain.seconds)} s`],
    ...m.figures.rails.flatMap(railRows),
    ['end to end', endToEnd(m.figures)],
    ['first dispatch', firstDispatch(m.figures)],
    ...m.executions.map((d): [string, string] => [`executions/order ${d.rail}`, formatExecutions(d)]),
    ['pain.001 messages', `${integer.format(m.pain001Messages)} (distinct MsgId among the bank's bookings)`],
    ['GSMA requests', formatOperatorStats(m.operatorStats)],
    ['orders by status', formatCounts(m.drain.counts)],
    ['CPU cores during intake', formatCores(m.coresDuringIntake)],
    ['CPU cores during drain', formatCores(m.coresDuringDrain)],
    ['machine', `${availableParallelism()} cores (nproc), ${cpus()[0]?.model ?? 'unknown CPU'}`],
  ];
  const width = Math.max(...rows.map(([label]) => label.length));
  console.log(`\n== ${m.title} ==`);
  for (const [label, value] of rows) console.log(`  ${label.padEnd(width)}  ${value}`);
  for (const problem of problemsWith(m)) console.log(`  !! ${problem}`);
  console.log('');
}

function railRows(rail: RailFigures): [string, string][] {
  const { completed = 0, failed = 0, ...others } = rail.byStatus;
  const other = Object.values(others).reduce((sum, count) => sum + count, 0);
  return [
    [`${rail.rail}`, `${integer.format(rail.orders)} orders: completed ${integer.format(completed)}, failed ${integer.format(failed)}, other ${integer.format(other)}`],
    [`${rail.rail} payments/s`, rate(completed, rail.firstSubmittedMs, rail.lastCompletedMs, 'first submitted → last completed')],
  ];
}

function endToEnd(figures: PipelineFigures): string {
  const completed = figures.rails.reduce((sum, rail) => sum + (rail.byStatus.completed ?? 0), 0);
  return rate(completed, figures.firstCreatedMs, figures.lastCompletedMs, 'first order created → last completed');
}

/** Orders wait in the outbox until `kassa worker`, forked after the API is up, has started. */
function firstDispatch(figures: PipelineFigures): string {
  const submitted = figures.rails.map((rail) => rail.firstSubmittedMs).filter((ms): ms is number => ms !== undefined);
  if (figures.firstCreatedMs === undefined || submitted.length === 0) return 'n/a';
  return `${twoDecimals.format((Math.min(...submitted) - figures.firstCreatedMs) / 1000)} s after the first order was created`;
}

function rate(completed: number, fromMs: number | undefined, toMs: number | undefined, span: string): string {
  if (fromMs === undefined || toMs === undefined || toMs <= fromMs) return `n/a (${integer.format(completed)} completed)`;
  const seconds = (toMs - fromMs) / 1000;
  return `${oneDecimal.format(completed / seconds)} payments/s (${integer.format(completed)} in ${twoDecimals.format(seconds)} s, ${span})`;
}

function formatExecutions(d: ExecutionDistribution): string {
  const verdict = executedExactlyOnce(d) ? 'exactly 1 for every order' : 'NOT exactly 1 for every order';
  return `0× ${integer.format(d.never)}, 1× ${integer.format(d.once)}, >1× ${integer.format(d.moreThanOnce)}; executions of no order ${d.strangers} — ${verdict}`;
}

function formatOperatorStats(stats: GsmaSimulatorStats): string {
  return `${integer.format(stats.batchRequests)} batch, ${integer.format(stats.transactionRequests)} single; ${stats.tokensIssued} tokens issued, ${integer.format(stats.callbacksSent)} callbacks sent`;
}

function formatRefusals(intake: IntakeResult): string {
  const entries = Object.entries(intake.refused);
  if (entries.length === 0) return '0';
  return entries.map(([status, count]) => `${status}: ${count} (e.g. ${intake.samples[status]?.slice(0, 200)})`).join('; ');
}

/** As bench/support/report.ts shows them: busiest first, under 0.01 core left out, then the whole machine. */
