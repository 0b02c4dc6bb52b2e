import assert from 'node:assert/strict';
import { ibanChecksumValid, partyValueProblem } from '../../src/domain/party.ts';

describe('financial addresses', () => {
  it('when an IBAN has correct check digits, then it is accepted', () => {
    for (const iban of ['GB82WEST12345698765432', 'DE89370400440532013000', 'NL91ABNA0417164300']) {
      assert.equal(ibanChecksumValid(iban), true, iban);
      assert.equal(partyValueProblem('iban', iban), undefined);
    }
  });

  it('when an IBAN has wrong check digits, then it is refused with the reason', () => {
    assert.equal(ibanChecksumValid('GB83WEST12345698765432'), false);
    assert.match(partyValueProblem('iban', 'GB83WEST12345698765432') ?? '', /check digits/);
    assert.match(partyValueProblem('iban', 'gb82 west 1234') ?? '', /capitals/);
  });

  it('when a phone number is not E.164, then it is refused', () => {
    assert.equal(partyValueProblem('msisdn', '+254712345678'), undefined);
    assert.equal(partyValueProblem('msisdn', '254712345678'), undefined);
    for (const value of ['0712', '+0712345678', 'phone', '+2547123456789012']) assert.notEqual(partyValueProblem('msisdn', value), undefined, value);
  });

  it('when a card is given as a number with spaces, then it is refused as not a token', () => {
    assert.match(partyValueProblem('card', '4242 4242 4242 4242') ?? '', /token/);
    assert.equal(partyValueProblem('card', 'pm_card_visa'), undefined);
  });
});
