import type { Party } from './order.ts';
import { partyValueProblem } from './party.ts';

/** GovStack payment modality codes (chapter 7.1). */
export const MODALITIES = {
  '00': 'bank account',
  '01': 'mobile money',
  '02': 'voucher',
  '03': 'digital wallet',
  '04': 'proxy',
} as const;
export type ModalityCode = keyof typeof MODALITIES;
export const MODALITY_CODES = Object.keys(MODALITIES) as ModalityCode[];

export function isModalityCode(value: string): value is ModalityCode {
  return Object.hasOwn(MODALITIES, value);
}

/** One entry in the account mapper: where a registering institution's beneficiary is paid. */
export interface Beneficiary {
  readonly registeringInstitution: string;
  /** The beneficiary's lasting key (a national-ID token, say); never changes once registered. */
  readonly functionalId: string;
  readonly modality: ModalityCode;
  readonly financialAddress: string;
  /** Banking institution or wallet provider that holds the address, when the registrar gave one. */
  readonly institutionCode: string | null;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

/** Where a beneficiary is paid: what registration sets and an update changes. */
export interface BeneficiaryAccount {
  readonly functionalId: string;
  readonly modality: ModalityCode;
  readonly financialAddress: string;
  readonly institutionCode: string | null;
}

/** One beneficiary as a registrar sent it, before it is checked: the legacy API leaves modality and address optional. */
export interface BeneficiaryEntry {
  readonly functionalId: string;
  readonly modality?: string;
  readonly financialAddress?: string;
  readonly institutionCode?: string;
}

/** What became of one beneficiary in a registration or an update, reported back to the registrar. */
export interface BeneficiaryOutcome {
  readonly functionalId: string;
  readonly result: 'registered' | 'updated' | 'duplicate' | 'invalid' | 'unknown';
  /** As sent, or as stored when an update did not name one; null when neither is known. */
  readonly modality: string | null;
  readonly institutionCode: string | null;
  readonly reason?: string;
}

const IBAN_SHAPED = /^[A-Za-z]{2}\d{2}/;

/** Why an address cannot be paid under its modality, or undefined when it can. */
export function financialAddressProblem(modality: ModalityCode, address: string): string | undefined {
  switch (modality) {
    case '00':
      // Something that starts like an IBAN must be one, check digits included; otherwise a domestic account number.
      return IBAN_SHAPED.test(address) ? partyValueProblem('iban', address) : partyValueProblem('bank_account', address);
    case '01':
    case '03':
      return partyValueProblem('msisdn', address);
    case '02':
    case '04':
      return partyValueProblem('functional_id', address);
  }
}

const MASK = '••••••';

/** What logs and reports may show of an address: the last four characters at most, never more than half of it. */
export function maskFinancialAddress(address: string): string {
  const visible = Math.min(4, Math.floor(address.length / 2));
  return `${MASK}${visible > 0 ? address.slice(-visible) : ''}`;
}

/** The party a payment to the beneficiary goes to, or why the beneficiary cannot be paid to an account. */
export function payeePartyOf(beneficiary: Beneficiary): { party: Party } | { reasonCode: string; reason: string } {
  const institution = beneficiary.institutionCode === null ? {} : { institution: beneficiary.institutionCode };
  const value = beneficiary.financialAddress;
  switch (beneficiary.modality) {
    case '00': {
      const isIban = partyValueProblem('iban', value) === undefined;
      return { party: { type: isIban ? 'iban' : 'bank_account', value, ...institution } };
    }
    case '01':
    case '03':
      return { party: { type: 'msisdn', value, ...institution } };
    case '02':
      return { reasonCode: 'modality_not_payable', reason: 'the beneficiary is registered for vouchers, which are issued, not paid to an account' };
    case '04':
      return { reasonCode: 'modality_not_payable', reason: 'the beneficiary is registered under a proxy, which must be resolved to an account before it can be paid' };
  }
}

const MODALITY_LIST = MODALITY_CODES.map((code) => `${code} (${MODALITIES[code]})`).join(', ');

function accountProblem(modality: string | undefined, address: string | undefined): string | undefined {
  if (modality === undefined) return 'a payment modality is required';
  if (!isModalityCode(modality)) return `payment modality must be one of ${MODALITY_LIST}`;
  if (address === undefined) return 'a financial address is required';
  const problem = financialAddressProblem(modality, address);
  return problem && `financial address ${problem}`;
}

/** The account a registration entry describes, or why it cannot be registered. */
export function accountToRegister(entry: BeneficiaryEntry): { account: BeneficiaryAccount } | { problem: string } {
  const problem = accountProblem(entry.modality, entry.financialAddress);
  if (problem) return { problem };
  return { account: { functionalId: entry.functionalId, modality: entry.modality as ModalityCode, financialAddress: entry.financialAddress!, institutionCode: entry.institutionCode ?? null } };
}

/**
 * The account after an update entry is applied to the current one, or why it cannot be. The institution code
 * is dropped when the modality changes without a new one, since a bank's code says nothing about a wallet.
 */
export function accountAfterUpdate(current: Beneficiary, entry: BeneficiaryEntry): { account: BeneficiaryAccount } | { problem: string } {
  if (entry.modality === undefined && entry.financialAddress === undefined && entry.institutionCode === undefined) {
    return { problem: 'names no payment modality, financial address or institution code to change' };
  }
  const modality = entry.modality ?? current.modality;
  const financialAddress = entry.financialAddress ?? current.financialAddress;
  const problem = accountProblem(modality, financialAddress);
  if (problem) return { problem };
  const modalityChanged = modality !== current.modality;
  const institutionCode = entry.institutionCode ?? (modalityChanged ? null : current.institutionCode);
  return { account: { functionalId: current.functionalId, modality: modality as ModalityCode, financialAddress, institutionCode } };
}
