import currencyCodes from 'currency-codes';

export interface Money {
  readonly minor: bigint;
  readonly currency: string;
}

export type MoneyParseResult = { ok: true; money: Money } | { ok: false; field: 'amount' | 'currency'; reason: string };

const DECIMAL = /^(0|[1-9]\d*)(?:\.(\d+))?$/;
const MAX_MINOR = 2n ** 63n - 1n;

/** ISO 4217 codes with no minor unit ("N.A."): precious metals, bond-market units, SDR, testing and "no currency". */
const NOT_MONEY = new Set(['XAG', 'XAU', 'XBA', 'XBB', 'XBC', 'XBD', 'XDR', 'XPD', 'XPT', 'XSU', 'XTS', 'XUA', 'XXX']);

export function minorUnitsOf(currency: string): number | undefined {
  if (NOT_MONEY.has(currency)) return undefined;
  return currencyCodes.code(currency)?.digits;
}

/** Parses a decimal string in major units into integer minor units without ever touching floating point. */
export function parseMoney(amount: string, currency: string): MoneyParseResult {
  const digits = /^[A-Z]{3}$/.test(currency) ? minorUnitsOf(currency) : undefined;
  if (digits === undefined) return { ok: false, field: 'currency', reason: `"${currency}" is not an ISO 4217 currency code` };
  const match = DECIMAL.exec(amount);
  if (!match) return { ok: false, field: 'amount', reason: 'must be a positive decimal string such as "125.50"' };
  const [, whole = '0', fraction = ''] = match;
  if (fraction.length > digits) {
    return { ok: false, field: 'amount', reason: `${currency} has ${digits} decimal places; "${amount}" has ${fraction.length}` };
  }
  const minor = BigInt(whole) * 10n ** BigInt(digits) + BigInt(fraction.padEnd(digits, '0') || '0');
  if (minor === 0n) return { ok: false, field: 'amount', reason: 'must be greater than zero' };
  if (minor > MAX_MINOR) return { ok: false, field: 'amount', reason: 'is too large' };
  return { ok: true, money: { minor, currency } };
}

/** A negative amount (a balance, a credit) keeps its sign in front: -12.50. */
export function formatMoney(money: Money): string {
  if (money.minor < 0n) return `-${formatMoney({ minor: -money.minor, currency: money.currency })}`;
  const digits = minorUnitsOf(money.currency) ?? 0;
  if (digits === 0) return money.minor.toString();
  const text = money.minor.toString().padStart(digits + 1, '0');
  return `${text.slice(0, -digits)}.${text.slice(-digits)}`;
}
