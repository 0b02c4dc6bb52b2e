import assert from 'node:assert/strict';
import { fromStripeAmount, toStripeAmount } from '../../adapters/stripe/currency.ts';

const toStripe: readonly { readonly when: string; readonly minor: bigint; readonly currency: string; readonly then: number | RegExp }[] = [
  { when: 'EUR 12.50', minor: 1_250n, currency: 'EUR', then: 1_250 },
  { when: 'USD 0.01', minor: 1n, currency: 'USD', then: 1 },
  { when: 'JPY 500 (zero-decimal in ISO and Stripe)', minor: 500n, currency: 'JPY', then: 500 },
  { when: 'UGX 5000 (zero-decimal in ISO and Stripe)', minor: 5_000n, currency: 'UGX', then: 5_000 },
  { when: 'ISK 5 (zero-decimal in ISO, two-decimal in Stripe)', minor: 5n, currency: 'ISK', then: 500 },
  { when: 'MGA 100.00 (two-decimal in ISO, zero-decimal in Stripe)', minor: 10_000n, currency: 'MGA', then: 100 },
  { when: 'MGA 100.50 (a fraction Stripe cannot take)', minor: 10_050n, currency: 'MGA', then: /whole units/ },
  { when: 'KWD 5.120 (three-decimal, last digit 0)', minor: 5_120n, currency: 'KWD', then: 5_120 },
  { when: 'KWD 5.125 (three-decimal, last digit not 0)', minor: 5_125n, currency: 'KWD', then: /multiple of 10/ },
  { when: 'HUF 10.45 (two-decimal charges are fine)', minor: 1_045n, currency: 'HUF', then: 1_045 },
  { when: 'a code that is not ISO 4217', minor: 100n, currency: 'ABC', then: /not an ISO 4217 currency/ },
  { when: 'a zero amount', minor: 0n, currency: 'EUR', then: /positive/ },
  { when: 'an amount beyond a safe integer', minor: 2n ** 60n, currency: 'EUR', then: /too large/ },
];

describe('stripe amounts', () => {
  for (const c of toStripe) {
    it(`when Kassa sends ${c.when}, then Stripe gets ${String(c.then)}`, () => {
      const result = toStripeAmount({ minor: c.minor, currency: c.currency });
      if (typeof c.then === 'number') {
        assert.deepEqual(result, { ok: true, amount: c.then, currency: c.currency.toLowerCase() });
      } else {
        assert.ok(!result.ok);
        assert.match(result.reason, c.then);
      }
    });
  }

  it('when Stripe reports amounts, then they come back in ISO minor units with the sign kept', () => {
    assert.deepEqual(fromStripeAmount(1_250, 'eur'), { minor: 1_250n, currency: 'EUR' });
    assert.deepEqual(fromStripeAmount(500, 'isk'), { minor: 5n, currency: 'ISK' });
    assert.deepEqual(fromStripeAmount(100, 'mga'), { minor: 10_000n, currency: 'MGA' });
    assert.deepEqual(fromStripeAmount(-300, 'jpy'), { minor: -300n, currency: 'JPY' });
    assert.throws(() => fromStripeAmount(1.5, 'eur'), /not an integer/);
    assert.throws(() => fromStripeAmount(1, 'zzz'), /not an ISO 4217 currency/);
  });
});
