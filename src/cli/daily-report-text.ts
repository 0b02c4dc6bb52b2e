import type { DailyReportView } from '../services/present-daily-report.ts';

/** The daily report as a terminal shows it: a table per section, amounts right-aligned, orders in brackets. */
export function dailyReportText(report: DailyReportView): string {
  const scope = report.organisation_id === null ? 'every organisation' : `organisation ${report.organisation_id}`;
  const withOrders = (amount: string | null, orders: number) => `${amount ?? ''} (${orders})`;
  return [
    `Daily report ${report.date}: ${report.from} to ${report.to} (${report.time_zone}), ${scope}`,
    '',
    'Positions (amounts with the orders behind them)',
    table(
      ['organisation', 'program', 'currency', 'opening', 'collected', 'returned fees', 'disbursed', 'returned benefits', 'rail fees', 'closing', 'budget', 'blocked', 'available'],
      report.positions.map((position) => [
        position.organisation, position.program_code ?? '', position.currency, position.opening_balance,
        withOrders(position.collected, position.collected_orders), withOrders(position.returned_fees, position.returned_fees_orders),
        withOrders(position.disbursed, position.disbursed_orders), withOrders(position.returned_benefits, position.returned_benefits_orders),
        withOrders(position.fees, position.fees_orders), position.closing_balance, position.budget, position.blocked, position.available,
      ]),
      3,
    ),
    '',
    'Clearing accounts',
    table(
      ['rail', 'institution', 'currency', 'opening', 'debits', 'credits', 'closing'],
      report.settlement.flatMap((rail) => rail.accounts.map((account) => [
        rail.rail, account.institution ?? '', rail.currency, account.opening_balance, account.debits, account.credits, account.closing_balance,
      ])),
      3,
    ),
    '',
    'Rails against their statements (net out: what left, less what came in)',
    table(
      ['rail', 'currency', 'ledger net out', 'statement lines', 'statement credits', 'statement debits', 'statement net out', 'difference'],
      report.settlement.map((rail) => [
        rail.rail, rail.currency, rail.ledger_net_out, String(rail.statement.lines), rail.statement.credits, rail.statement.debits, rail.statement.net_out, rail.difference,
      ]),
      2,
    ),
    '',
    'Unresolved reconciliation exceptions',
    table(
      ['severity', 'type', 'currency', 'count', 'amount', 'oldest (days)'],
      report.exceptions.map((group) => [group.severity, group.type, group.currency ?? '', String(group.count), group.amount, String(group.oldest_age_days)]),
      3,
    ),
    '',
  ].join('\n');
}

/** Columns from `firstNumeric` on are right-aligned. */
function table(headers: readonly string[], rows: readonly (readonly (string | null)[])[], firstNumeric: number): string {
  if (rows.length === 0) return '  (none)';
  const cells = rows.map((row) => row.map((cell) => cell ?? ''));
  const widths = headers.map((header, column) => Math.max(header.length, ...cells.map((row) => row[column]!.length)));
  const line = (row: readonly string[]) => `  ${row.map((cell, column) => (column < firstNumeric ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join('  ').trimEnd()}`;
  return [line(headers), ...cells.map(line)].join('\n');
}
