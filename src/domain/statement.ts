import type { Money } from './money.ts';

/** The kinds of statement Kassa reads: files (recognised by their content) and what a rail adapter reports. */
export const STATEMENT_FORMATS = ['camt.053', 'camt.054', 'mt940', 'csv', 'rail'] as const;
export type StatementFormat = (typeof STATEMENT_FORMATS)[number];

/** One booking on the account, as a statement reports it. */
export interface StatementLine {
  readonly amount: Money;
  readonly direction: 'credit' | 'debit';
  /** ISO dates (YYYY-MM-DD). */
  readonly bookingDate: string;
  readonly valueDate: string;
  /** The end-to-end reference: the order's rail key, when the rail echoes it. */
  readonly railKey?: string;
  /** The bank's reference of the booking; the same booking keeps it in every statement that shows it. */
  readonly railReference: string;
  /** The other party's name or account, as the rail gives it. */
  readonly counterparty?: string;
  readonly counterpartyAccount?: string;
  /** An earlier booking undone: for a payment Kassa made, the money came back (a return). */
  readonly reversal: boolean;
  readonly reasonCode?: string;
  /** A bulk line (one booking for several payments): how many it covers … */
  readonly batchCount?: number;
  /** … and their rail keys, when the statement lists them (camt.053 TxDtls; MT940 cannot). */
  readonly batchKeys?: readonly string[];
  /** … with each payment's own booking reference where the statement gives one (camt TxDtls/Refs/AcctSvcrRef). */
  readonly batchReferences?: readonly (string | undefined)[];
  /** The payment information id (PmtInfId / MT940 /PREF/) of a bulk line. */
  readonly batchReference?: string;
}

/** One account report inside a statement file (a camt Stmt/Ntfctn, an MT940 message). */
export interface StatementReport {
  readonly id: string;
  readonly account?: string;
  readonly currency?: string;
  /** Signed minor units (negative: overdrawn), when the report has balances. */
  readonly openingBalanceMinor?: bigint;
  readonly closingBalanceMinor?: bigint;
  readonly openingDate?: string;
  readonly closingDate?: string;
  readonly entries: number;
}

/** What a statement says about itself, besides its lines. */
export interface StatementHeader {
  /** camt GrpHdr/MsgId, MT940 :20: of the first message. */
  readonly statementRef?: string;
  readonly reports: readonly StatementReport[];
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

export function isIsoDate(text: string): boolean {
  if (!ISO_DATE.test(text)) return false;
  const date = new Date(`${text}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === text;
}

/** The ISO date `days` after (or before, negative) `date`. */
export function addDays(date: string, days: number): string {
  const next = new Date(`${date}T00:00:00Z`);
  next.setUTCDate(next.getUTCDate() + days);
  return next.toISOString().slice(0, 10);
}

/** The period a statement covers: from its earliest to its latest booking, else its balances' dates. */
export function periodOf(bookingDates: { min?: string; max?: string }, header: StatementHeader | undefined): { from: string | null; to: string | null } {
  const balanceDates = (header?.reports ?? []).flatMap((report) => [report.openingDate, report.closingDate]).filter((date): date is string => date !== undefined).sort();
  return {
    from: bookingDates.min ?? balanceDates[0] ?? null,
    to: bookingDates.max ?? balanceDates.at(-1) ?? null,
  };
}
