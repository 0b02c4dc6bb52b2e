import { formatMoney, minorUnitsOf, type Money } from '../../src/domain/money.ts';

/**
 * Exact decimal arithmetic for ISO 20022 and MT940 amounts: every amount becomes integer minor units
 * (bigint) and back, never a floating-point number.
 */

/** A decimal number as an integer count of 10^-scale. */
export interface ScaledDecimal {
  readonly units: bigint;
  readonly scale: number;
}

const ISO_DECIMAL = /^(\d{1,18})(?:\.(\d{1,17}))?$/;

/** Parses an unsigned ISO 20022 decimal ("125.5", "0.10", "1500"); undefined when it is not one. */
export function parseDecimal(text: string): ScaledDecimal | undefined {
  const match = ISO_DECIMAL.exec(text);
  if (!match) return undefined;
  const [, whole = '0', fraction = ''] = match;
  return { units: BigInt(whole + fraction), scale: fraction.length };
}

export function formatDecimal(value: ScaledDecimal): string {
  if (value.scale === 0) return value.units.toString();
  const text = value.units.toString().padStart(value.scale + 1, '0');
  return `${text.slice(0, -value.scale)}.${text.slice(-value.scale)}`;
}

export function rescale(value: ScaledDecimal, scale: number): bigint {
  if (scale >= value.scale) return value.units * 10n ** BigInt(scale - value.scale);
  const factor = 10n ** BigInt(value.scale - scale);
  if (value.units % factor !== 0n) throw new Error(`${formatDecimal(value)} has more than ${scale} decimal places`);
  return value.units / factor;
}

/** Whether two decimals have the same value ("12.5" equals "12.50"). */
export function decimalsEqual(a: ScaledDecimal, b: ScaledDecimal): boolean {
  const scale = Math.max(a.scale, b.scale);
  return rescale(a, scale) === rescale(b, scale);
}

/** The ISO 20022 text of an amount: exactly the currency's decimal places (formatMoney). */
export function formatAmount(money: Money): string {
  return formatMoney(money);
}

/**
 * The sum of amounts "irrespective of currencies" (GrpHdr/CtrlSum, PmtInf/CtrlSum), exact, with as
 * many decimal places as the currency with the most.
 */
export function controlSum(amounts: readonly Money[]): string {
  let scale = 0;
  for (const amount of amounts) scale = Math.max(scale, digitsOf(amount.currency));
  let units = 0n;
  for (const amount of amounts) units += amount.minor * 10n ** BigInt(scale - digitsOf(amount.currency));
  return formatDecimal({ units, scale });
}

/**
 * Parses an amount in a currency into minor units. Extra decimal places are accepted only when
 * they are zeros ("12.500" EUR is 1250 cents; "12.505" EUR is an error). Throws with the reason.
 */
export function parseAmount(text: string, currency: string): Money {
  if (!/^[A-Z]{3}$/.test(currency)) throw new Error(`"${currency}" is not an ISO 4217 currency code`);
  const digits = minorUnitsOf(currency);
  if (digits === undefined) throw new Error(`"${currency}" is not a currency with minor units`);
  const value = parseDecimal(text);
  if (!value) throw new Error(`"${text}" is not a decimal amount such as 125.50`);
  let minor: bigint;
  try {
    minor = rescale(value, digits);
  } catch {
    throw new Error(`"${text}" has more decimal places than ${currency} (${digits})`);
  }
  return { minor, currency };
}

/** MT940 amounts use a decimal comma and may end with it ("1234,56", "1234,", "0,5"). */
export function parseMt940Amount(text: string, currency: string): Money {
  if (!/^\d{1,15},\d{0,15}$/.test(text) || text.length > 15) throw new Error(`"${text}" is not an MT940 amount such as 1234,56`);
  const [whole = '0', fraction = ''] = text.split(',');
  return parseAmount(fraction === '' ? whole : `${whole}.${fraction}`, currency);
}

export function formatMt940Amount(money: Money): string {
  return formatMoney(money).replace('.', ',').replace(/^(\d+)$/, '$1,');
}

function digitsOf(currency: string): number {
  const digits = minorUnitsOf(currency);
  if (digits === undefined) throw new Error(`"${currency}" is not a currency with minor units`);
  return digits;
}
