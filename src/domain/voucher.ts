import { createHmac, randomBytes } from 'node:crypto';
import { newOrderId, type Party } from './order.ts';
import { UNPAID_STATUSES, type OrderStatus } from './order-status.ts';

export const VOUCHER_STATUSES = ['pre_activated', 'activated', 'suspended', 'redeemed', 'cancelled', 'expired'] as const;
export type VoucherStatus = (typeof VOUCHER_STATUSES)[number];

export const VOUCHER_COMMANDS = ['activate', 'suspend', 'unsuspend', 'redeem', 'cancel', 'expire'] as const;
export type VoucherCommand = (typeof VOUCHER_COMMANDS)[number];

/** What a caller may ask of a voucher by its serial number; expiry is Kassa's own doing, redemption takes the number. */
export type SerialCommand = Exclude<VoucherCommand, 'redeem' | 'expire'>;

/** How a done command reads: in callbacks' event types and in GovStack's answers. */
export const COMMAND_DONE: Readonly<Record<SerialCommand, string>> = { activate: 'activated', suspend: 'suspended', unsuspend: 'unsuspended', cancel: 'cancelled' };

/**
 * The one state machine every voucher follows: the statuses each command moves a voucher from, and the status it
 * moves it to. A status change not listed here cannot be written.
 */
const COMMANDS: Readonly<Record<VoucherCommand, { readonly from: readonly VoucherStatus[]; readonly to: VoucherStatus }>> = {
  activate: { from: ['pre_activated'], to: 'activated' },
  suspend: { from: ['activated'], to: 'suspended' },
  unsuspend: { from: ['suspended'], to: 'activated' },
  redeem: { from: ['activated'], to: 'redeemed' },
  // A cancellation overrides a suspension (the "Blocked" status) and ends the voucher for good.
  cancel: { from: ['pre_activated', 'activated', 'suspended'], to: 'cancelled' },
  expire: { from: ['pre_activated', 'activated', 'suspended'], to: 'expired' },
};

/** The statuses a voucher may be in for `command` to apply: the guard of the command's UPDATE. */
export function statusesAllowing(command: VoucherCommand): readonly VoucherStatus[] {
  return COMMANDS[command].from;
}

export function statusAfter(command: VoucherCommand): VoucherStatus {
  return COMMANDS[command].to;
}

/** Commands that end a voucher unused, giving its amount back to the program. */
export function releasesBudget(command: VoucherCommand): boolean {
  return command === 'cancel' || command === 'expire';
}

/** Why GovStack refuses a voucher request; each reason has its GovStack code (452…464, 599) at the API. */
export const VOUCHER_REFUSALS = [
  'invalid_amount',
  'invalid_currency',
  'invalid_group',
  'group_exhausted',
  'invalid_serial_number',
  'already_used',
  'expired',
  'unknown_building_block',
  'invalid_voucher_number',
  'insufficient_funds',
  'cannot_credit_merchant',
  'invalid_voucher',
  'already_cancelled',
  'network_timeout',
] as const;
export type VoucherRefusal = (typeof VOUCHER_REFUSALS)[number];

/** GovStack's code and words for each reason (9.2 and its compliance tests); 463 stands for two reasons. */
export const GOVSTACK_VOUCHER_CODES: Readonly<Record<VoucherRefusal, { readonly code: number; readonly message: string }>> = {
  invalid_amount: { code: 452, message: 'Invalid amount' },
  invalid_currency: { code: 453, message: 'Invalid currency' },
  invalid_group: { code: 454, message: 'Invalid voucher group' },
  group_exhausted: { code: 455, message: 'Voucher group exhausted' },
  invalid_serial_number: { code: 456, message: 'Invalid voucher serial number' },
  already_used: { code: 458, message: 'Voucher number already used' },
  expired: { code: 459, message: 'Voucher has expired' },
  unknown_building_block: { code: 460, message: 'GovStack Building Block does not exist' },
  invalid_voucher_number: { code: 461, message: 'Invalid voucher number' },
  insufficient_funds: { code: 462, message: 'Insufficient funds in funding a/c' },
  cannot_credit_merchant: { code: 463, message: 'Cannot credit merchant' },
  invalid_voucher: { code: 463, message: 'Invalid voucher' },
  already_cancelled: { code: 464, message: 'Voucher is already cancelled' },
  network_timeout: { code: 599, message: 'Network connection timeout error' },
};

/** ISO 20022's "insufficient funds", which every rail adapter reports a debit beyond the balance as. */
const INSUFFICIENT_FUNDS = 'AM04';

/**
 * What GovStack's redemption flow calls the payout's trouble, once a redeemed voucher's payout is in trouble: the
 * funding account could not be debited (462), the merchant could not be credited (463), or the rail could not be
 * reached and has not said what happened (599). Undefined while the payout is under way or paid.
 */
export function payoutRefusalOf(payoutStatus: OrderStatus, failureCode: string | null): VoucherRefusal | undefined {
  if (payoutStatus === 'unknown') return 'network_timeout';
  if (!UNPAID_STATUSES.includes(payoutStatus)) return undefined;
  return failureCode === INSUFFICIENT_FUNDS ? 'insufficient_funds' : 'cannot_credit_merchant';
}

/** A voucher request refused for a reason GovStack has a code for; `detail` names what is wrong, never a voucher number. */
export class VoucherRefused extends Error {
  override name = 'VoucherRefused';
  constructor(
    readonly reason: VoucherRefusal,
    readonly detail: string,
  ) {
    super(detail);
  }
}

/** A voucher as a refusal is judged: its status, and whether its validity has run out (the expiry job may not have marked it yet). */
export interface VoucherState {
  readonly status: VoucherStatus;
  readonly pastExpiry: boolean;
}

/**
 * Why `command` did not change a voucher found in `state` (undefined state: there is no such voucher), or undefined
 * when the voucher is already where the command would take it: activating an active voucher is no failure.
 */
export function refusalOf(command: Exclude<VoucherCommand, 'expire'>, state: VoucherState | undefined): VoucherRefusal | undefined {
  if (!state) return command === 'redeem' ? 'invalid_voucher_number' : command === 'cancel' ? 'invalid_voucher' : 'invalid_serial_number';
  if (state.status === 'redeemed') return 'already_used';
  if (state.status === 'cancelled') return 'already_cancelled';
  if (state.status === 'expired' || state.pastExpiry) return 'expired';
  if (state.status === statusAfter(command)) return undefined;
  // Redeeming a suspended (blocked) or not yet activated voucher, suspending one not yet activated, and the like.
  return 'invalid_voucher';
}

/** Who redeems vouchers: a merchant paid for goods, or a cash-out agent paid for the cash it hands out. */
export const MERCHANT_KINDS = ['merchant', 'agent'] as const;
export type MerchantKind = (typeof MERCHANT_KINDS)[number];

/**
 * A merchant registered for some voucher groups redeems only vouchers of those; one registered for none (null) takes
 * every group. `override` is GovStack's switch that lets any voucher be redeemed at any merchant.
 */
export function merchantMayRedeem(merchantGroups: readonly string[] | null, voucherGroup: string, override: boolean): boolean {
  return override || merchantGroups === null || merchantGroups.includes(voucherGroup);
}

// Voucher numbers are the secret a beneficiary holds: 16 digits, the first 1–8, so every number stays below 2^53 and
// a legacy client that sends one as a JSON number (its files say int64) keeps every digit.
const NUMBER_LOW = 1_000_000_000_000_000n;
const NUMBER_SPAN = 8_000_000_000_000_000n;
// Rejection sampling: 64-bit draws at or above the largest multiple of the span would favour small numbers.
const DRAW_LIMIT = (2n ** 64n / NUMBER_SPAN) * NUMBER_SPAN;
const VOUCHER_NUMBER = /^[1-8]\d{15}$/;

/** `count` distinct voucher numbers from the operating system's cryptographic random source. */
export function generateVoucherNumbers(count: number): string[] {
  const numbers = new Set<string>();
  while (numbers.size < count) {
    const draws = randomBytes(8 * (count - numbers.size));
    for (let offset = 0; offset < draws.length; offset += 8) {
      const draw = draws.readBigUInt64BE(offset);
      if (draw < DRAW_LIMIT) numbers.add((NUMBER_LOW + (draw % NUMBER_SPAN)).toString());
    }
  }
  return [...numbers];
}

export function isVoucherNumber(text: string): boolean {
  return VOUCHER_NUMBER.test(text);
}

/**
 * What is stored of a voucher number: a keyed hash (HMAC-SHA256 under a server secret kept out of the database), so a
 * copy of the database alone cannot be searched for numbers, and redemption finds the voucher by the hash.
 */
export function hashVoucherNumber(voucherNumber: string, key: string): string {
  return createHmac('sha256', key).update(voucherNumber).digest('hex');
}

const SERIAL_NUMBER = /^\d{1,18}$/;

/**
 * A serial number as GovStack sends it, a string (v3) or an integer (legacy); undefined when it cannot be one, which
 * the API answers as an unknown serial number rather than a malformed request.
 */
export function parseSerialNumber(value: string | number): bigint | undefined {
  const text = typeof value === 'number' ? (Number.isSafeInteger(value) ? String(value) : '') : value.trim();
  if (!SERIAL_NUMBER.test(text)) return undefined;
  const serial = BigInt(text);
  return serial > 0n ? serial : undefined;
}

/** A payout order to a voucher's merchant, as both a redemption and paying a failed payout again write it. */
export interface VoucherPayoutOrder {
  readonly orderId: string;
  readonly rail: string;
  readonly payer: Party;
  readonly payee: Party;
  readonly reference: string;
  readonly metadata: Record<string, unknown>;
}

/**
 * What a redeemed voucher owes its merchant: a new order from the program's funding account to the merchant's
 * registered account. `paysAgain` names the earlier payout that this one replaces because it was not paid.
 */
export function voucherPayoutOrder(
  voucher: { readonly serialNumber: bigint; readonly groupCode: string; readonly programId: string; readonly fundingAccount: Party },
  merchant: { readonly code: string; readonly account: Party },
  rail: string,
  paysAgain?: string,
): VoucherPayoutOrder {
  return {
    orderId: newOrderId(), rail, payer: voucher.fundingAccount, payee: merchant.account,
    reference: `voucher ${voucher.serialNumber} redeemed by ${merchant.code}${paysAgain ? ', paid again' : ''}`,
    metadata: {
      voucher_serial_number: voucher.serialNumber.toString(), voucher_group: voucher.groupCode, program_id: voucher.programId, merchant_code: merchant.code,
      ...(paysAgain && { pays_again: paysAgain }),
    },
  };
}
