import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { signCallback, verifyCallbackSignature } from '../../adapters/gsma-mobile-money/callback-signature.ts';
import {
  batchCorrelationIdFor,
  correlationIdFor,
  errorOfRejectionReason,
  fromGsmaAmount,
  GSMA_AMOUNT_PATTERN,
  railKeyFromCorrelationId,
  toGsmaAmount,
  UUID_PATTERN,
} from '../../adapters/gsma-mobile-money/wire.ts';

describe('gsma wire formats', () => {
  describe('correlation ids', () => {
    it('when a key is 32 hex digits, then its correlation id is that UUID and the key can be read back', () => {
      const uuid = randomUUID();
      const key = uuid.replaceAll('-', '');
      assert.equal(correlationIdFor(key), uuid);
      assert.equal(railKeyFromCorrelationId(uuid), key);
    });

    it('when a key is any other contract key, then its correlation id is a stable name-based UUID that does not pretend to be a key', () => {
      const id = correlationIdFor('K123abcXYZ');
      assert.match(id, UUID_PATTERN);
      assert.equal(id[14], '8', 'RFC 9562 version 8');
      assert.equal(correlationIdFor('K123abcXYZ'), id);
      assert.notEqual(correlationIdFor('K123abcXYZ0'), id);
      assert.equal(railKeyFromCorrelationId(id), undefined);
      assert.equal(railKeyFromCorrelationId('not-a-uuid'), undefined);
    });

    it('when a batch is resent in another order, then its correlation id is the same; another set of keys gets another id', () => {
      assert.equal(batchCorrelationIdFor(['a', 'b', 'c']), batchCorrelationIdFor(['c', 'a', 'b']));
      assert.notEqual(batchCorrelationIdFor(['a', 'b']), batchCorrelationIdFor(['a', 'b', 'c']));
      assert.match(batchCorrelationIdFor(['a']), UUID_PATTERN);
    });
  });

  describe('amounts', () => {
    const cases: [bigint, string, string][] = [
      [12_550n, 'KES', '125.5'],
      [12_500n, 'KES', '125'],
      [1n, 'KES', '0.01'],
      [5n, 'UGX', '5'],
      [1_234n, 'BHD', '1.234'],
      [100_000_000_000n, 'KES', '1000000000'],
    ];
    for (const [minor, currency, text] of cases) {
      it(`when ${minor} minor ${currency} is written, then it reads "${text}" and back`, () => {
        assert.equal(toGsmaAmount({ minor, currency }), text);
        assert.match(text, GSMA_AMOUNT_PATTERN);
        assert.deepEqual(fromGsmaAmount(text, currency), { minor, currency });
      });
    }

    it('when an amount has more decimals than its currency or is not a number, then it is not read', () => {
      assert.equal(fromGsmaAmount('1.001', 'KES'), undefined);
      assert.equal(fromGsmaAmount('1.5', 'UGX'), undefined);
      assert.equal(fromGsmaAmount('-1', 'KES'), undefined);
      assert.equal(fromGsmaAmount('1e3', 'KES'), undefined);
      assert.equal(fromGsmaAmount('1', 'XXX'), undefined);
      assert.deepEqual(fromGsmaAmount('1.50', 'KES'), { minor: 150n, currency: 'KES' }, 'trailing zeros are tolerated when reading');
    });
  });

  describe('callback signatures', () => {
    const secret = 'operator-callback-secret';
    const id = randomUUID();
    const body = Buffer.from('{"transactionStatus":"completed"}');
    const now = 1_800_000_000;

    it('when a callback is signed and verified with the same secret, id and body, then it is valid', () => {
      assert.equal(verifyCallbackSignature(secret, signCallback(secret, id, body, now), id, body, now + 10, 300), 'valid');
    });

    it('when anything signed differs, then the verdict says what', () => {
      const header = signCallback(secret, id, body, now);
      assert.equal(verifyCallbackSignature('another-secret', header, id, body, now, 300), 'mismatch');
      assert.equal(verifyCallbackSignature(secret, header, randomUUID(), body, now, 300), 'mismatch');
      assert.equal(verifyCallbackSignature(secret, header, id, Buffer.from('{"transactionStatus":"failed"}'), now, 300), 'mismatch');
      assert.equal(verifyCallbackSignature(secret, header, id, body, now + 301, 300), 'stale');
      assert.equal(verifyCallbackSignature(secret, undefined, id, body, now, 300), 'missing');
      assert.equal(verifyCallbackSignature(secret, 't=1,v1=zz', id, body, now, 300), 'malformed');
      assert.equal(verifyCallbackSignature(secret, `v1=${'0'.repeat(64)}`, id, body, now, 300), 'malformed');
    });

    it('when several v1 values are sent during a secret rotation, then any match is enough', () => {
      const old = signCallback('the-old-secret', id, body, now).split(',')[1];
      const header = `${signCallback(secret, id, body, now)},${old}`;
      assert.equal(verifyCallbackSignature('the-old-secret', header, id, body, now, 300), 'valid');
      assert.equal(verifyCallbackSignature(secret, header, id, body, now, 300), 'valid');
    });
  });

  it('when a batch rejection follows the category/code convention, then its error is read; free text is not', () => {
    assert.deepEqual(errorOfRejectionReason('businessRule/insufficientFunds: no money'), { errorCategory: 'businessRule', errorCode: 'insufficientFunds', errordescription: 'no money' });
    assert.deepEqual(errorOfRejectionReason('identification/identifierError'), { errorCategory: 'identification', errorCode: 'identifierError' });
    assert.equal(errorOfRejectionReason('Wallet closed'), undefined);
  });
});
