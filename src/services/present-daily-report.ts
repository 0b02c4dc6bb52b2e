import { formatMoney } from '../domain/money.ts';
import type { ClearingPosition, Movement, Position, RailDay } from '../db/repositories/reports.ts';
import type { DailyReport } from './daily-report.ts';

/**
 * The daily report's public shape. Every amount is a decimal string in major units with its `_minor` twin, as
 * the ledger shows them; balances are signed, movements positive.
 */
export function presentDailyReport(report: DailyReport) {
  return {
    date: report.date,
    time_zone: report.timeZone,
    from: report.from.toISOString(),
    to: report.to.toISOString(),
    organisation_id: report.organisationId,
    positions: report.positions.map(presentPosition),
    settlement: presentSettlement(report.clearing, report.rails),
    exceptions: report.exceptions.map((group) => ({
      type: group.type,
      severity: group.severity,
      currency: group.currency,
      count: group.count,
      ...amount('amount', group.amountMinor, group.currency),
      oldest_opened_at: group.oldestOpenedAt.toISOString(),
      oldest_age_days: group.oldestAgeDays,
    })),
  };
}

export type DailyReportView = ReturnType<typeof presentDailyReport>;

function amount<Name extends string>(name: Name, minor: bigint | null, currency: string | null) {
  const shown = minor === null || currency === null ? null : formatMoney({ minor, currency });
  return { [name]: shown, [`${name}_minor`]: minor?.toString() ?? null } as Record<Name | `${Name}_minor`, string | null>;
}

function movement<Name extends string>(name: Name, moved: Movement, currency: string) {
  return { ...amount(name, moved.amountMinor, currency), [`${name}_orders`]: moved.orders } as Record<Name | `${Name}_minor`, string | null> & Record<`${Name}_orders`, number>;
}

function presentPosition(position: Position) {
  const { currency, program } = position;
  return {
    organisation_id: position.organisationId,
    organisation: position.organisationName,
    program_id: position.programId,
    program_code: position.programCode,
    currency,
    ...amount('opening_balance', position.openingMinor, currency),
    ...movement('collected', position.collected, currency),
    ...movement('returned_fees', position.returnedFees, currency),
    ...movement('disbursed', position.disbursed, currency),
    ...movement('returned_benefits', position.returnedBenefits, currency),
    ...movement('fees', position.fees, currency),
    ...amount('closing_balance', position.closingMinor, currency),
    ...amount('budget', program?.budgetMinor ?? null, currency),
    ...amount('blocked', program?.blockedMinor ?? null, currency),
    ...amount('available', program?.availableMinor ?? null, currency),
  };
}

/** A rail and currency: its clearing accounts, and the ledger's day against the rail's statements. */
function presentSettlement(clearing: readonly ClearingPosition[], rails: readonly RailDay[]) {
  const keyOf = (entry: { rail: string; currency: string }) => `${entry.rail} ${entry.currency}`;
  const keys = [...new Set([...clearing.map(keyOf), ...rails.map(keyOf)])].sort();
  return keys.map((key) => {
    const accounts = clearing.filter((account) => keyOf(account) === key);
    const day = rails.find((rail) => keyOf(rail) === key);
    const { rail, currency } = accounts[0] ?? day!;
    const ledgerNetOut = day?.ledgerNetOutMinor ?? 0n;
    const statementNetOut = (day?.statementDebitsMinor ?? 0n) - (day?.statementCreditsMinor ?? 0n);
    return {
      rail,
      currency,
      accounts: accounts.map((account) => ({
        account: account.account,
        institution: account.institution,
        ...amount('opening_balance', account.openingMinor, currency),
        ...amount('debits', account.debitsMinor, currency),
        ...amount('credits', account.creditsMinor, currency),
        ...amount('closing_balance', account.closingMinor, currency),
      })),
      ...amount('ledger_net_out', ledgerNetOut, currency),
      statement: {
        lines: day?.statementLines ?? 0,
        ...amount('credits', day?.statementCreditsMinor ?? 0n, currency),
        ...amount('debits', day?.statementDebitsMinor ?? 0n, currency),
        ...amount('net_out', statementNetOut, currency),
      },
      ...amount('difference', statementNetOut - ledgerNetOut, currency),
    };
  });
}
