import type { Money } from './money.ts';
import { parseMoney } from './money.ts';
import type { Party } from './order.ts';
import { partyValueProblem } from './party.ts';

export const BATCH_STATUSES = ['validating', 'awaiting_approval', 'scheduled', 'processing', 'completed', 'rejected', 'cancelled'] as const;
export type BatchStatus = (typeof BATCH_STATUSES)[number];

export const FINAL_BATCH_STATUSES: readonly BatchStatus[] = ['completed', 'rejected', 'cancelled'];

/** Statuses from which a batch may still be cancelled: anything not yet final. */
export const CANCELLABLE_BATCH_STATUSES: readonly BatchStatus[] = ['validating', 'awaiting_approval', 'scheduled', 'processing'];

export const BATCH_APIS = ['kassa', 'govstack', 'govstack_legacy'] as const;
export type BatchApi = (typeof BATCH_APIS)[number];

export const BATCH_ROW_STATUSES = ['pending', 'valid', 'invalid', 'ordered', 'cancelled'] as const;
export type BatchRowStatus = (typeof BATCH_ROW_STATUSES)[number];

/**
 * Why a row is not paid, as the validation report and the failures file say it. Stable codes: agencies
 * build their follow-up on them.
 */
export const ROW_REASONS = {
  missing_field: 'a required field is empty',
  invalid_amount: 'the amount is not a valid amount in its currency',
  invalid_currency: 'the currency is not an ISO 4217 code',
  currency_mismatch: "the currency is not the program's currency",
  invalid_account: 'the financial address is not valid for its type',
  unknown_beneficiary: 'no beneficiary is registered under this functional ID',
  modality_not_payable: "the beneficiary's payment modality cannot be paid through a rail",
  no_route: 'no rail carries payments to this account',
  duplicate_in_batch: 'the same instruction appears earlier in this batch',
  already_paid: 'this instruction was paid, or is being paid, by an earlier batch of the program',
  batch_cancelled: 'the batch was cancelled before this payment was sent',
} as const;
export type RowReasonCode = keyof typeof ROW_REASONS;

/** One instruction as an API or a file gives it, before anything is checked. */
export interface BatchRowInput {
  readonly instructionId: string;
  /** A functional ID to resolve through the account mapper … */
  readonly payeeIdentity?: string;
  /** … or the account itself. */
  readonly payee?: Party;
  readonly payer?: Party;
  /** Major units as a decimal string: files and JSON numbers are both turned into text before they get here. */
  readonly amount: string;
  readonly currency: string;
  readonly note?: string;
}

export type CheckedRow =
  | { readonly ok: true; readonly amount: Money }
  | { readonly ok: false; readonly amount?: Money; readonly reasonCode: RowReasonCode; readonly reason: string };

/** What can be said of a row on its own, before the account mapper and the rest of the batch are consulted. */
export function checkRow(row: BatchRowInput, programCurrency: string): CheckedRow {
  if (row.instructionId === '') return rejectRow('missing_field', 'the instruction id is empty');
  if (!row.payeeIdentity && !row.payee) return rejectRow('missing_field', 'neither a payee functional ID nor a payee account is given');
  const parsed = parseMoney(row.amount, row.currency);
  if (!parsed.ok) return rejectRow(parsed.field === 'currency' ? 'invalid_currency' : 'invalid_amount', `${parsed.field} ${parsed.reason}`);
  if (parsed.money.currency !== programCurrency) {
    return { ok: false, amount: parsed.money, reasonCode: 'currency_mismatch', reason: `${row.currency} is not the program's currency ${programCurrency}` };
  }
  for (const [side, party] of [['payee', row.payee], ['payer', row.payer]] as const) {
    const problem = party && partyValueProblem(party.type, party.value);
    if (problem) return { ok: false, amount: parsed.money, reasonCode: 'invalid_account', reason: `${side} ${party.type} ${problem}` };
  }
  return { ok: true, amount: parsed.money };
}

function rejectRow(reasonCode: RowReasonCode, reason: string): CheckedRow {
  return { ok: false, reasonCode, reason };
}

/**
 * A JSON number turned back into the decimal text it was written as. JSON numbers that carry money are a
 * GovStack given; anything that does not print as a plain decimal (1e21, 1e-7) is refused rather than guessed.
 */
export function decimalTextOf(value: number | string): string {
  return typeof value === 'string' ? value.trim() : String(value);
}

/** Progress thresholds (percent of payments final) at which the batch's callback is told. */
export const MILESTONES = [25, 50, 75, 100] as const;

/** The highest milestone reached by `final` of `total`; 0 when none is. */
export function milestoneReached(final: number, total: number): number {
  if (total === 0) return 100;
  const percent = (final * 100) / total;
  return MILESTONES.filter((milestone) => percent >= milestone).at(-1) ?? 0;
}

export function needsApproval(validTotalMinor: bigint, thresholdMinor: bigint): boolean {
  return validTotalMinor >= thresholdMinor;
}
