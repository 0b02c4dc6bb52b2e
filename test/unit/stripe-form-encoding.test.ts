import assert from 'node:assert/strict';
import { parseForm } from '../../adapters/stripe/fake-server.ts';

describe('stripe fake form encoding', () => {
  it('when the SDK encodes nested objects and arrays, then the fake reads them back', () => {
    const body =
      'mode=payment&line_items[0][quantity]=1&line_items[0][price_data][currency]=eur&line_items[0][price_data][unit_amount]=1250' +
      '&line_items[0][price_data][product_data][name]=Passport+renewal%20fee&metadata[kassa_rail_key]=k1&expand[0]=payment_intent&expand[1]=data.source';
    assert.deepEqual(parseForm(body), {
      mode: 'payment',
      line_items: [{ quantity: '1', price_data: { currency: 'eur', unit_amount: '1250', product_data: { name: 'Passport renewal fee' } } }],
      metadata: { kassa_rail_key: 'k1' },
      expand: ['payment_intent', 'data.source'],
    });
  });

  it('when brackets are percent-encoded, empty, or name prototype keys, then they are decoded, appended, or dropped', () => {
    assert.deepEqual(parseForm('created%5Bgte%5D=10&a[]=x&a[]=y'), { created: { gte: '10' }, a: ['x', 'y'] });
    const parsed = parseForm('__proto__[polluted]=1&metadata[constructor]=2&ok=3');
    assert.deepEqual(parsed, { ok: '3' });
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.deepEqual(parseForm(''), {});
  });
});
