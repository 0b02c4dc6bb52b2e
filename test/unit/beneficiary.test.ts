import assert from 'node:assert/strict';
import {
  accountAfterUpdate, accountToRegister, financialAddressProblem, maskFinancialAddress, MODALITY_CODES, payeePartyOf, type Beneficiary,
} from '../../src/domain/beneficiary.ts';

const beneficiary = (overrides: Partial<Beneficiary> = {}): Beneficiary => ({
  registeringInstitution: 'SOCIAL-REG',
  functionalId: 'NID-0001',
  modality: '01',
  financialAddress: '+254712345678',
  institutionCode: 'MPESA',
  createdAt: new Date('2026-11-25T10:00:00Z'),
  updatedAt: new Date('2026-11-25T10:00:00Z'),
  ...overrides,
});

describe('beneficiaries (account mapper rules)', () => {
  it('when the modality codes are listed, then they are GovStack’s five in order', () => {
    assert.deepEqual(MODALITY_CODES, ['00', '01', '02', '03', '04']);
  });

  it('when a bank account is an IBAN, then its check digits must match; otherwise a domestic account number is accepted', () => {
    assert.equal(financialAddressProblem('00', 'GB82WEST12345698765432'), undefined);
    assert.match(financialAddressProblem('00', 'GB83WEST12345698765432') ?? '', /check digits/);
    assert.match(financialAddressProblem('00', 'gb82west12345698765432') ?? '', /capitals/);
    assert.equal(financialAddressProblem('00', '0011223344'), undefined);
    assert.notEqual(financialAddressProblem('00', '12'), undefined);
  });

  it('when mobile money or a digital wallet is given, then the address must be an E.164 number', () => {
    for (const modality of ['01', '03'] as const) {
      assert.equal(financialAddressProblem(modality, '+254712345678'), undefined, modality);
      assert.match(financialAddressProblem(modality, '0712 345 678') ?? '', /E\.164/, modality);
      assert.notEqual(financialAddressProblem(modality, 'GB82WEST12345698765432'), undefined, modality);
    }
  });

  it('when a voucher or proxy is given, then the address is an opaque token', () => {
    for (const modality of ['02', '04'] as const) {
      assert.equal(financialAddressProblem(modality, 'alias:amina.k'), undefined, modality);
      assert.match(financialAddressProblem(modality, 'has spaces in it') ?? '', /token/, modality);
    }
  });

  it('when an address is masked, then at most its last four characters and never more than half of it show', () => {
    assert.equal(maskFinancialAddress('GB82WEST12345698761234'), '••••••1234');
    assert.equal(maskFinancialAddress('+254712345678'), '••••••5678');
    assert.equal(maskFinancialAddress('123456'), '••••••456');
    assert.equal(maskFinancialAddress('1234'), '••••••34');
    assert.equal(maskFinancialAddress('1'), '••••••');
  });

  it('when a bank beneficiary is turned into a payee, then a valid IBAN is an iban party and anything else a bank_account, with the institution', () => {
    assert.deepEqual(payeePartyOf(beneficiary({ modality: '00', financialAddress: 'GB82WEST12345698765432', institutionCode: 'WESTGB2L' })),
      { party: { type: 'iban', value: 'GB82WEST12345698765432', institution: 'WESTGB2L' } });
    assert.deepEqual(payeePartyOf(beneficiary({ modality: '00', financialAddress: '0011223344', institutionCode: null })),
      { party: { type: 'bank_account', value: '0011223344' } });
  });

  it('when a mobile money or wallet beneficiary is turned into a payee, then it is an msisdn party', () => {
    assert.deepEqual(payeePartyOf(beneficiary()), { party: { type: 'msisdn', value: '+254712345678', institution: 'MPESA' } });
    assert.deepEqual(payeePartyOf(beneficiary({ modality: '03', institutionCode: null })), { party: { type: 'msisdn', value: '+254712345678' } });
  });

  it('when a voucher or proxy beneficiary is turned into a payee, then the reason is modality_not_payable', () => {
    for (const modality of ['02', '04'] as const) {
      const result = payeePartyOf(beneficiary({ modality, financialAddress: 'VOUCHER-TOKEN-1' }));
      assert.ok('reasonCode' in result, modality);
      assert.equal(result.reasonCode, 'modality_not_payable');
      assert.ok(result.reason.length > 0);
    }
  });

  it('when a registration entry lacks a modality or address, or has an unknown modality, then the problem says which', () => {
    assert.deepEqual(accountToRegister({ functionalId: 'A', modality: '01', financialAddress: '+254712345678' }),
      { account: { functionalId: 'A', modality: '01', financialAddress: '+254712345678', institutionCode: null } });
    assert.deepEqual(accountToRegister({ functionalId: 'A' }), { problem: 'a payment modality is required' });
    assert.match((accountToRegister({ functionalId: 'A', modality: '07', financialAddress: 'x' }) as { problem: string }).problem, /one of 00 \(bank account\)/);
    assert.deepEqual(accountToRegister({ functionalId: 'A', modality: '01' }), { problem: 'a financial address is required' });
    assert.match((accountToRegister({ functionalId: 'A', modality: '01', financialAddress: 'LI4808800751423444466' }) as { problem: string }).problem, /^financial address must be an E\.164/);
  });

  it('when an update changes only the address, then modality and institution stay', () => {
    assert.deepEqual(accountAfterUpdate(beneficiary(), { functionalId: 'NID-0001', financialAddress: '+254700000001' }),
      { account: { functionalId: 'NID-0001', modality: '01', financialAddress: '+254700000001', institutionCode: 'MPESA' } });
  });

  it('when an update changes the modality without an institution, then the old institution code is dropped', () => {
    assert.deepEqual(accountAfterUpdate(beneficiary(), { functionalId: 'NID-0001', modality: '00', financialAddress: 'GB82WEST12345698765432' }),
      { account: { functionalId: 'NID-0001', modality: '00', financialAddress: 'GB82WEST12345698765432', institutionCode: null } });
  });

  it('when an update changes the modality but leaves an address the new one cannot pay, or names nothing, then it is refused', () => {
    assert.match((accountAfterUpdate(beneficiary(), { functionalId: 'NID-0001', modality: '00' }) as { problem: string }).problem, /^financial address/);
    assert.match((accountAfterUpdate(beneficiary(), { functionalId: 'NID-0001' }) as { problem: string }).problem, /names no/);
  });
});
