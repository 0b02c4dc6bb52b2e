import { stringify } from 'csv-stringify/sync';
import type { DailyReportView } from '../services/present-daily-report.ts';

const COLUMNS = [
  'section', 'date', 'organisation_id', 'organisation', 'program_id', 'program_code', 'rail', 'institution', 'account', 'type', 'severity', 'currency',
  'opening_balance', 'collected', 'collected_orders', 'returned_fees', 'returned_fees_orders', 'disbursed', 'disbursed_orders',
  'returned_benefits', 'returned_benefits_orders', 'fees', 'fees_orders', 'closing_balance', 'budget', 'blocked', 'available',
  'debits', 'credits', 'ledger_net_out', 'statement_lines', 'statement_credits', 'statement_debits', 'statement_net_out', 'difference',
  'count', 'amount', 'oldest_opened_at', 'oldest_age_days',
] as const;

type CsvRow = Partial<Record<(typeof COLUMNS)[number], string | number | null>>;

/**
 * The daily report as one flat CSV for a spreadsheet: a row per position (`position`), clearing account
 * (`settlement_account`), rail against its statements (`settlement_rail`) and group of open exceptions
 * (`exception`), each with the columns of its section filled in. Amounts in major units, as in the JSON.
 */
export function dailyReportCsv(report: DailyReportView): string {
  const { date } = report;
  const rows: CsvRow[] = [
    ...report.positions.map((position): CsvRow => ({
      section: 'position', date, organisation_id: position.organisation_id, organisation: position.organisation, program_id: position.program_id,
      program_code: position.program_code, currency: position.currency, opening_balance: position.opening_balance,
      collected: position.collected, collected_orders: position.collected_orders, returned_fees: position.returned_fees, returned_fees_orders: position.returned_fees_orders,
      disbursed: position.disbursed, disbursed_orders: position.disbursed_orders, returned_benefits: position.returned_benefits,
      returned_benefits_orders: position.returned_benefits_orders, fees: position.fees, fees_orders: position.fees_orders,
      closing_balance: position.closing_balance, budget: position.budget, blocked: position.blocked, available: position.available,
    })),
    ...report.settlement.flatMap((rail) => [
      ...rail.accounts.map((account): CsvRow => ({
        section: 'settlement_account', date, rail: rail.rail, institution: account.institution, account: account.account, currency: rail.currency,
        opening_balance: account.opening_balance, debits: account.debits, credits: account.credits, closing_balance: account.closing_balance,
      })),
      {
        section: 'settlement_rail', date, rail: rail.rail, currency: rail.currency, ledger_net_out: rail.ledger_net_out, statement_lines: rail.statement.lines,
        statement_credits: rail.statement.credits, statement_debits: rail.statement.debits, statement_net_out: rail.statement.net_out, difference: rail.difference,
      } satisfies CsvRow,
    ]),
    ...report.exceptions.map((group): CsvRow => ({
      section: 'exception', date, type: group.type, severity: group.severity, currency: group.currency, count: group.count, amount: group.amount,
      oldest_opened_at: group.oldest_opened_at, oldest_age_days: group.oldest_age_days,
    })),
  ];
  return stringify(rows, { header: true, columns: [...COLUMNS] });
}
