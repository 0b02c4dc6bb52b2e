import type { OrderKind } from './order.ts';
import type { OrderStatus } from './order-status.ts';

/**
 * Which money movement posts what. Amounts are signed minor units: a debit is positive, a credit negative, and
 * every journal sums to zero in each currency (the database refuses one that does not).
 *
 * A benefit's money leaves where it was held (its program's blocked funds, or the organisation's direct benefits
 * account for a payment outside any program) for the clearing account of its rail and institution when it is
 * dispatched, and is spent (benefits disbursed) when the rail completes it. A failure undoes the dispatch; a
 * return undoes the spending, the money coming back to where it was held. A fee is revenue once collected; a
 * return undoes that. A program's budget is credited with what approval blocks and debited with what the
 * batch releases, so its balance is minus what the program has committed.
 */

/** The kinds of account; the migration's CHECK lists the same. */
export type AccountKind =
  | 'program_budget' | 'program_reserved' | 'benefits_disbursed' | 'direct_benefits' | 'fee_revenue' | 'clearing' | 'suspense' | 'refunds' | 'rail_fees';

export type JournalKind =
  | 'benefit_funds_blocked' | 'benefit_funds_released' | 'benefit_dispatched' | 'benefit_completed' | 'benefit_failed' | 'benefit_returned'
  | 'fee_collected' | 'fee_returned';

/**
 * An account's code as a list of segments joined by ':'. A segment may be a stand-in the order (or program)
 * fills in; a stand-in with nothing to fill it is left out, so a payment naming no institution clears through
 * `clearing:<rail>`.
 */
const PROGRAM = '{program}';
const RAIL = '{rail}';
const INSTITUTION = '{institution}';

export interface AccountPattern {
  readonly kind: AccountKind;
  readonly segments: readonly string[];
}

export const ACCOUNTS = {
  programBudget: { kind: 'program_budget', segments: ['program', PROGRAM, 'budget'] },
  programReserved: { kind: 'program_reserved', segments: ['program', PROGRAM, 'reserved'] },
  programDisbursed: { kind: 'benefits_disbursed', segments: ['program', PROGRAM, 'disbursed'] },
  directBenefits: { kind: 'direct_benefits', segments: ['benefits', 'direct'] },
  directDisbursed: { kind: 'benefits_disbursed', segments: ['benefits', 'disbursed'] },
  feeRevenue: { kind: 'fee_revenue', segments: ['fees', 'revenue'] },
  clearing: { kind: 'clearing', segments: ['clearing', RAIL, INSTITUTION] },
  railFees: { kind: 'rail_fees', segments: ['rail-fees', RAIL] },
} as const satisfies Record<string, AccountPattern>;

export interface AccountValues {
  readonly program?: string | null;
  readonly rail?: string | null;
  readonly institution?: string | null;
}

export function accountCode(pattern: AccountPattern, values: AccountValues): string {
  const filled: Record<string, string | null | undefined> = { [PROGRAM]: values.program, [RAIL]: values.rail, [INSTITUTION]: values.institution };
  return pattern.segments.flatMap((segment) => {
    if (!(segment in filled)) return [segment];
    const value = filled[segment];
    return value ? [value] : [];
  }).join(':');
}

/** One side of an order's movement: the order's amount, or the fee its rail reported for it (in the rail's currency). */
export interface OrderLeg {
  readonly account: AccountPattern;
  readonly sign: 1 | -1;
  readonly measure: 'amount' | 'rail_fee';
}

/** What an order moving into `to` posts, for orders of `orderKind` paid out of a program or not. */
export interface OrderMovement {
  readonly journal: JournalKind;
  readonly orderKind: OrderKind;
  readonly to: OrderStatus;
  readonly fromProgram: boolean;
  /** The status whose journal this movement reverses; nothing is posted when that journal does not exist. */
  readonly reverses?: OrderStatus;
  readonly legs: readonly OrderLeg[];
}

const debit = (account: AccountPattern, measure: OrderLeg['measure'] = 'amount'): OrderLeg => ({ account, sign: 1, measure });
const credit = (account: AccountPattern, measure: OrderLeg['measure'] = 'amount'): OrderLeg => ({ account, sign: -1, measure });

/** The rail keeps its fee out of what it clears; the fee is not given back when the payment is returned. */
const RAIL_FEE: readonly OrderLeg[] = [debit(ACCOUNTS.railFees, 'rail_fee'), credit(ACCOUNTS.clearing, 'rail_fee')];

function benefitMovements(fromProgram: boolean): OrderMovement[] {
  const held = fromProgram ? ACCOUNTS.programReserved : ACCOUNTS.directBenefits;
  const spent = fromProgram ? ACCOUNTS.programDisbursed : ACCOUNTS.directDisbursed;
  const benefit = { orderKind: 'benefit', fromProgram } as const;
  return [
    { ...benefit, journal: 'benefit_dispatched', to: 'submitted', legs: [debit(ACCOUNTS.clearing), credit(held)] },
    { ...benefit, journal: 'benefit_completed', to: 'completed', legs: [debit(spent), credit(ACCOUNTS.clearing), ...RAIL_FEE] },
    { ...benefit, journal: 'benefit_failed', to: 'failed', reverses: 'submitted', legs: [debit(held), credit(ACCOUNTS.clearing)] },
    { ...benefit, journal: 'benefit_returned', to: 'returned', reverses: 'completed', legs: [debit(held), credit(spent)] },
  ];
}

const FEE_MOVEMENTS: readonly OrderMovement[] = [
  { journal: 'fee_collected', orderKind: 'fee', fromProgram: false, to: 'completed', legs: [debit(ACCOUNTS.clearing), credit(ACCOUNTS.feeRevenue), ...RAIL_FEE] },
  { journal: 'fee_returned', orderKind: 'fee', fromProgram: false, to: 'returned', reverses: 'completed', legs: [debit(ACCOUNTS.feeRevenue), credit(ACCOUNTS.clearing)] },
];

export const ORDER_MOVEMENTS: readonly OrderMovement[] = [...benefitMovements(true), ...benefitMovements(false), ...FEE_MOVEMENTS];

/** The movements orders post when they move into `to`; none for a status that moves no money. */
export function movementsInto(to: OrderStatus): OrderMovement[] {
  return ORDER_MOVEMENTS.filter((movement) => movement.to === to);
}

export interface Posting {
  readonly account: { readonly kind: AccountKind; readonly code: string };
  readonly currency: string;
  readonly amountMinor: bigint;
}

export interface JournalDraft {
  readonly organisationId: string;
  readonly kind: JournalKind;
  readonly batchId: string | null;
  readonly programId: string | null;
  readonly postings: readonly Posting[];
}

/** A claim on a program's budget: a batch's, or (with no batch) that of vouchers of the program. */
export interface ProgramFunds {
  readonly organisationId: string;
  readonly programId: string;
  readonly batchId: string | null;
  readonly currency: string;
}

function programJournal(kind: JournalKind, funds: ProgramFunds, into: AccountPattern, outOf: AccountPattern, amountMinor: bigint): JournalDraft {
  const posting = (pattern: AccountPattern, amount: bigint): Posting => ({
    account: { kind: pattern.kind, code: accountCode(pattern, { program: funds.programId }) }, currency: funds.currency, amountMinor: amount,
  });
  return {
    organisationId: funds.organisationId, kind, batchId: funds.batchId, programId: funds.programId,
    postings: [posting(into, amountMinor), posting(outOf, -amountMinor)],
  };
}

/** Approval blocks the batch's total (pre-activation, the vouchers' total): it leaves the budget for the program's blocked funds. */
export function fundsBlocked(funds: ProgramFunds, amountMinor: bigint): JournalDraft {
  return programJournal('benefit_funds_blocked', funds, ACCOUNTS.programReserved, ACCOUNTS.programBudget, amountMinor);
}

/** What is no longer needed blocked (payments failed, cancelled, never sent or returned; vouchers cancelled or expired) goes back to the budget. */
export function fundsReleased(funds: ProgramFunds, amountMinor: bigint): JournalDraft {
  return programJournal('benefit_funds_released', funds, ACCOUNTS.programBudget, ACCOUNTS.programReserved, amountMinor);
}
