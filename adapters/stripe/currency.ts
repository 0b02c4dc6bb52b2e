import { minorUnitsOf, type Money } from '../../src/domain/money.ts';

/**
 * Kassa holds money in ISO 4217 minor units; Stripe's `amount` is in "the currency's smallest unit"
 * as Stripe defines it, which agrees with ISO 4217 for almost every currency (USD 1000 = 10.00,
 * JPY 500 = ¥500, KWD 5120 = 5.120). The exceptions, from https://docs.stripe.com/currencies:
 *
 * - Stripe exponent differs from ISO: ISK is zero-decimal in ISO but two-decimal in Stripe's API
 *   (ISK 5 is `500`); MGA is two-decimal in ISO but zero-decimal in Stripe's API.
 * - Stripe only accepts whole units although the API is two-decimal: ISK (and HUF/TWD payouts,
 *   which Kassa does not make), so an ISK amount must be a multiple of 100 in Stripe's units.
 * - Three-decimal currencies (BHD, JOD, KWD, OMR, TND): the last digit must be 0.
 *
 * An amount Stripe cannot take is reported, never rounded: rounding would charge the citizen a
 * different fee than the order says.
 */

/** Stripe's number of decimals where it differs from ISO 4217. */
export const STRIPE_EXPONENT_OVERRIDES: Readonly<Record<string, number>> = Object.freeze({
  ISK: 2,
  MGA: 0,
});

/** The amount in Stripe's units must be a multiple of this. */
export const STRIPE_AMOUNT_STEP: Readonly<Record<string, bigint>> = Object.freeze({
  ISK: 100n,
  BHD: 10n,
  JOD: 10n,
  KWD: 10n,
  OMR: 10n,
  TND: 10n,
});

export type StripeAmountResult =
  | { readonly ok: true; readonly amount: number; readonly currency: string }
  | { readonly ok: false; readonly reason: string };

function exponents(currency: string): { iso: number; stripe: number } | undefined {
  const iso = minorUnitsOf(currency);
  if (iso === undefined) return undefined;
  const override = Object.hasOwn(STRIPE_EXPONENT_OVERRIDES, currency) ? STRIPE_EXPONENT_OVERRIDES[currency] : undefined;
  return { iso, stripe: override ?? iso };
}

/** Kassa Money → Stripe `amount` (a safe integer) and lowercase `currency`. */
export function toStripeAmount(money: Money): StripeAmountResult {
  const currency = money.currency.toUpperCase();
  const exp = exponents(currency);
  if (!exp) return { ok: false, reason: `${money.currency} is not an ISO 4217 currency Stripe can charge` };
  if (money.minor <= 0n) return { ok: false, reason: 'the amount must be positive' };
  let amount = money.minor;
  if (exp.stripe > exp.iso) {
    amount *= 10n ** BigInt(exp.stripe - exp.iso);
  } else if (exp.stripe < exp.iso) {
    const divisor = 10n ** BigInt(exp.iso - exp.stripe);
    if (amount % divisor !== 0n) return { ok: false, reason: `Stripe charges ${currency} in whole units only` };
    amount /= divisor;
  }
  const step = Object.hasOwn(STRIPE_AMOUNT_STEP, currency) ? STRIPE_AMOUNT_STEP[currency] : undefined;
  if (step !== undefined && amount % step !== 0n) {
    return { ok: false, reason: `Stripe only accepts ${currency} amounts whose Stripe value is a multiple of ${step}` };
  }
  if (amount > BigInt(Number.MAX_SAFE_INTEGER)) return { ok: false, reason: 'the amount is too large for Stripe' };
  return { ok: true, amount: Number(amount), currency: currency.toLowerCase() };
}

/**
 * Stripe `amount` + `currency` (any case) → Kassa Money in ISO minor units. Signs are kept; an
 * amount that does not fit ISO minor units exactly (a fractional ISK in old data) is truncated
 * toward zero, since ISO cannot express it.
 */
export function fromStripeAmount(amount: number, currency: string): Money {
  const code = currency.toUpperCase();
  if (!Number.isSafeInteger(amount)) throw new Error(`Stripe amount ${amount} ${code} is not an integer`);
  const exp = exponents(code);
  if (!exp) throw new Error(`Stripe reported an amount in ${currency}, which is not an ISO 4217 currency`);
  let minor = BigInt(amount);
  if (exp.stripe > exp.iso) minor /= 10n ** BigInt(exp.stripe - exp.iso);
  else if (exp.stripe < exp.iso) minor *= 10n ** BigInt(exp.iso - exp.stripe);
  return { minor, currency: code };
}
