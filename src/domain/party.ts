import type { PartyType } from './order.ts';

const MSISDN = /^\+?[1-9]\d{6,14}$/;
const IBAN = /^[A-Z]{2}\d{2}[A-Z0-9]{11,30}$/;
const BANK_ACCOUNT = /^[A-Za-z0-9-]{4,34}$/;
const TOKEN = /^[A-Za-z0-9_.:-]{1,128}$/;

/** ISO 13616: move the first four characters to the end, letters become numbers, the result mod 97 is 1. */
export function ibanChecksumValid(iban: string): boolean {
  const rearranged = iban.slice(4) + iban.slice(0, 4);
  let remainder = 0;
  for (const character of rearranged) {
    const digits = /[A-Z]/.test(character) ? String(character.charCodeAt(0) - 55) : character;
    for (const digit of digits) remainder = (remainder * 10 + Number(digit)) % 97;
  }
  return remainder === 1;
}

/** Why a financial address is not acceptable for its type, or undefined when it is. */
export function partyValueProblem(type: PartyType, value: string): string | undefined {
  switch (type) {
    case 'msisdn':
      return MSISDN.test(value) ? undefined : 'must be an E.164 phone number such as +254712345678';
    case 'iban':
      if (!IBAN.test(value)) return 'must be an IBAN in capitals without spaces';
      return ibanChecksumValid(value) ? undefined : 'IBAN check digits do not match';
    case 'bank_account':
      return BANK_ACCOUNT.test(value) ? undefined : 'must be 4–34 letters, digits or dashes';
    case 'functional_id':
    case 'card':
      return TOKEN.test(value) ? undefined : 'must be an opaque token of up to 128 characters (never a raw card number)';
  }
}
