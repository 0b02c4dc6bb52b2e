import assert from 'node:assert/strict';
import { formatMoney, parseMoney } from '../../src/domain/money.ts';

describe('money', () => {
  const accepted: [string, string, bigint][] = [
    ['125.50', 'KES', 12550n],
    ['125.5', 'KES', 12550n],
    ['125', 'KES', 12500n],
    ['0.01', 'USD', 1n],
    ['1500', 'JPY', 1500n],
    ['1.234', 'BHD', 1234n],
    ['92233720368547758.07', 'USD', 9223372036854775807n],
  ];
  for (const [amount, currency, minor] of accepted) {
    it(`when "${amount}" ${currency} is parsed, then it is ${minor} minor units`, () => {
      assert.deepEqual(parseMoney(amount, currency), { ok: true, money: { minor, currency } });
    });
  }

  const refused: [string, string, 'amount' | 'currency', RegExp][] = [
    ['1.001', 'KES', 'amount', /2 decimal places/],
    ['1.5', 'JPY', 'amount', /0 decimal places/],
    ['0', 'KES', 'amount', /greater than zero/],
    ['0.00', 'KES', 'amount', /greater than zero/],
    ['-5', 'KES', 'amount', /positive decimal/],
    ['1e3', 'KES', 'amount', /positive decimal/],
    ['abc', 'KES', 'amount', /positive decimal/],
    ['01.5', 'KES', 'amount', /positive decimal/],
    ['92233720368547758.08', 'USD', 'amount', /too large/],
    ['10', 'XYZ', 'currency', /ISO 4217/],
    ['10', 'kes', 'currency', /ISO 4217/],
  ];
  for (const [amount, currency, field, reason] of refused) {
    it(`when "${amount}" ${currency} is parsed, then ${field} is refused`, () => {
      const result = parseMoney(amount, currency);
      assert.equal(result.ok, false);
      if (result.ok) return;
      assert.equal(result.field, field);
      assert.match(result.reason, reason);
    });
  }

  it('when minor units are formatted, then the currency decides the decimals', () => {
    assert.equal(formatMoney({ minor: 12550n, currency: 'KES' }), '125.50');
    assert.equal(formatMoney({ minor: 5n, currency: 'USD' }), '0.05');
    assert.equal(formatMoney({ minor: 1500n, currency: 'JPY' }), '1500');
    assert.equal(formatMoney({ minor: 1234n, currency: 'BHD' }), '1.234');
  });

  it('when a negative amount is formatted, then its sign comes first and its digits are those of the positive amount', () => {
    assert.equal(formatMoney({ minor: -5n, currency: 'USD' }), '-0.05');
    assert.equal(formatMoney({ minor: -12550n, currency: 'KES' }), '-125.50');
    assert.equal(formatMoney({ minor: -1500n, currency: 'JPY' }), '-1500');
  });
});
