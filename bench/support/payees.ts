/**
 * Distinct payees the rail simulators always pay: both decline or hold accounts and wallets by their last four
 * digits (0000–0003), so every generated value ends in 5.
 */

export interface Payee {
  readonly type: 'iban' | 'msisdn';
  readonly value: string;
}

// A German IBAN: 8-digit bank code, then a 10-digit account number.
const BANK_CODE = '37040044';

export function ibanPayee(index: number): Payee {
  const account = `${String(index).padStart(9, '0')}5`;
  return { type: 'iban', value: withCheckDigits('DE', `${BANK_CODE}${account}`) };
}

/** A Kenyan mobile number (+2547…), 12 digits after the +. */
export function msisdnPayee(index: number): Payee {
  return { type: 'msisdn', value: `+2547${String(index).padStart(7, '0')}5` };
}

/** ISO 13616: the check digits make the rearranged IBAN, letters as numbers, equal 1 mod 97. */
export function withCheckDigits(country: string, bban: string): string {
  const check = 98 - mod97(`${bban}${country}00`);
  return `${country}${String(check).padStart(2, '0')}${bban}`;
}

function mod97(text: string): number {
  let remainder = 0;
  for (const character of text) {
    const digits = /[A-Z]/.test(character) ? String(character.charCodeAt(0) - 55) : character;
    for (const digit of digits) remainder = (remainder * 10 + Number(digit)) % 97;
  }
  return remainder;
}
