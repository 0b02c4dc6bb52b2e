import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { signWebhook, verifyWebhook } from '../../src/domain/webhook-signature.ts';

describe('webhook signatures', () => {
  const secret = 'whsec_test';
  const body = '{"id":"d1","type":"order.completed"}';

  it('when a body is signed, then the header is the documented HMAC-SHA256 over "<t>.<body>"', () => {
    const expected = createHmac('sha256', secret).update(`1700000000.${body}`).digest('hex');
    assert.equal(signWebhook(secret, body, 1700000000), `t=1700000000,v1=${expected}`);
  });

  it('when the signature, body and time agree, then it verifies', () => {
    assert.equal(verifyWebhook(secret, body, signWebhook(secret, body, 1700000000), 1700000100), true);
  });

  it('when the body was altered, then it does not verify', () => {
    assert.equal(verifyWebhook(secret, body.replace('d1', 'd2'), signWebhook(secret, body, 1700000000), 1700000000), false);
  });

  it('when another secret signed it, then it does not verify', () => {
    assert.equal(verifyWebhook(secret, body, signWebhook('whsec_other', body, 1700000000), 1700000000), false);
  });

  it('when the timestamp is older than the tolerance, then it does not verify', () => {
    assert.equal(verifyWebhook(secret, body, signWebhook(secret, body, 1700000000), 1700000301), false);
  });

  it('when the header is malformed, then it does not verify', () => {
    for (const header of ['', 'v1=abc', 't=x,v1=abc', 't=1700000000', 't=1700000000,v1=zz']) {
      assert.equal(verifyWebhook(secret, body, header, 1700000000), false, header);
    }
  });
});
