import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createLogger } from '../../src/observability/logger.ts';

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString('utf8'));
      done();
    },
  });
  return { logger: createLogger('info', stream), lines };
}

describe('logs', () => {
  it('when an order, a request and a credential are logged, then account numbers and secrets are redacted and ids kept', () => {
    const { logger, lines } = capture();
    logger.info(
      {
        orderId: 'a1b2',
        order: { payer: { type: 'bank_account', value: '0011223344' }, payee: { type: 'msisdn', value: '+254712345678' } },
        req: { headers: { authorization: 'Bearer kassa_secret_key' } },
        endpoint: { secret: 'whsec_abc', url: 'https://agency.example/hooks' },
      },
      'order accepted',
    );
    const text = lines.join('');
    for (const secret of ['0011223344', '+254712345678', 'kassa_secret_key', 'whsec_abc']) assert.ok(!text.includes(secret), `${secret} must not reach the log`);
    const line = JSON.parse(text);
    assert.equal(line.orderId, 'a1b2');
    assert.equal(line.order.payee.value, '[redacted]');
    assert.equal(line.endpoint.url, 'https://agency.example/hooks');
  });

  it('when a beneficiary’s financial address is logged under its field name by mistake, then it is redacted', () => {
    const { logger, lines } = capture();
    logger.info({ financialAddress: 'GB82WEST12345698765432', beneficiary: { financialAddress: '+254712345678', FinancialAddress: '0011223344' }, row: { financial_address: 'DE89370400440532013000' } }, 'beneficiary');
    const text = lines.join('');
    for (const address of ['GB82WEST12345698765432', '+254712345678', '0011223344', 'DE89370400440532013000']) assert.ok(!text.includes(address), `${address} must not reach the log`);
    assert.equal(JSON.parse(text).beneficiary.financialAddress, '[redacted]');
  });
});
