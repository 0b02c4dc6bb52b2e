import assert from 'node:assert/strict';
import { BankIso20022Adapter, bankIso20022Rail, checkBankSignature, DEFAULT_BANK_CALLBACK_SECRET, signBankPush } from '../../adapters/bank-iso20022/index.ts';

const ENV_STRINGS = {
  baseUrl: 'https://h2h.bank.example/api/',
  timeoutMs: '2500',
  debtorName: 'Ministry of Finance',
  debtorIban: 'DE89 3704 0044 0532 0130 00',
  debtorBic: 'cobadeffxxx',
};

describe('bank-iso20022 options and signatures', () => {
  it('when options arrive as environment strings, then they are coerced, normalised and defaulted', () => {
    const options = bankIso20022Rail.optionsSchema.parse({ ...ENV_STRINGS, callbackSecret: '', initiatingPartyName: '' });

    assert.deepEqual(options, {
      baseUrl: 'https://h2h.bank.example/api',
      timeoutMs: 2500,
      debtorName: 'Ministry of Finance',
      debtorIban: 'DE89370400440532013000',
      debtorBic: 'COBADEFFXXX',
      callbackSecret: DEFAULT_BANK_CALLBACK_SECRET,
      statementFormat: 'camt053',
      initiatingPartyName: 'Ministry of Finance',
    });
    assert.equal(bankIso20022Rail.optionsSchema.parse({ ...ENV_STRINGS, timeoutMs: undefined }).timeoutMs, 10_000);
    const adapter = bankIso20022Rail.create(options);
    assert.equal(adapter.id, 'bank-iso20022');
    assert.equal(bankIso20022Rail.id, adapter.id);
    assert.deepEqual(adapter.capabilities, {
      directions: ['disbursement'],
      partyTypes: ['iban', 'bank_account'],
      currencies: ['*'],
      bulk: true,
      maxChunkSize: 1000,
      callbacks: true,
      refunds: false,
      statements: true,
    });
  });

  it('when options are wrong, then the error names every bad option', () => {
    const result = bankIso20022Rail.optionsSchema.safeParse({ baseUrl: 'ftp://bank', timeoutMs: 'soon', debtorName: '', debtorIban: 'DE00370400440532013000', debtorBic: 'BANK', callbackSecret: 'short', statementFormat: 'pdf' });
    assert.ok(!result.success);
    assert.deepEqual(result.error.issues.map((i) => i.path.join('.')).sort(), ['baseUrl', 'callbackSecret', 'debtorBic', 'debtorIban', 'debtorName', 'statementFormat', 'timeoutMs']);
    assert.throws(() => new BankIso20022Adapter({ ...ENV_STRINGS, debtorIban: 'nope' }), /bank-iso20022: invalid option debtorIban: must be a valid IBAN/);
  });

  it('when a push is signed, then only the exact body, the right secret and a fresh timestamp verify', () => {
    const body = Buffer.from('<Document>Zoë</Document>');
    const now = 1_710_000_000;
    const header = signBankPush('a-secret-of-sixteen+', body, now);

    assert.match(header, /^t=1710000000,v1=[0-9a-f]{64}$/);
    assert.equal(checkBankSignature('a-secret-of-sixteen+', body, header, now), 'valid');
    assert.equal(checkBankSignature('a-secret-of-sixteen+', body, `${header},v1=${'0'.repeat(64)}`, now), 'valid', 'any one v1 may match (rotation)');
    assert.equal(checkBankSignature('another-secret-here', body, header, now), 'mismatch');
    assert.equal(checkBankSignature('a-secret-of-sixteen+', Buffer.from('<Document>Zoe</Document>'), header, now), 'mismatch');
    assert.equal(checkBankSignature('a-secret-of-sixteen+', body, header, now + 301), 'stale');
    assert.equal(checkBankSignature('a-secret-of-sixteen+', body, undefined, now), 'missing');
    assert.equal(checkBankSignature('a-secret-of-sixteen+', body, 'v1=abc', now), 'malformed');
    assert.equal(checkBankSignature('a-secret-of-sixteen+', body, `t=${now}`, now), 'malformed');
  });
});
