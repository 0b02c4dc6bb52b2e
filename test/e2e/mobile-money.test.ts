import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { GSMA_SIMULATOR_DEFAULTS } from '../../adapters/gsma-mobile-money/defaults.ts';
import { startGsmaSimulator, type GsmaSimulator } from '../../adapters/gsma-mobile-money/simulator.ts';
import { apiClient, benefitOrder } from '../support/http.ts';
import { eventually, orderReaching, railKeyOf, startTestKassa, type TestKassa } from '../support/kassa.ts';

describe('orders over HTTP through the GSMA mobile-money rail', () => {
  let kassa: TestKassa;
  let operator: GsmaSimulator;
  let api: ReturnType<typeof apiClient>;

  before(async () => {
    operator = await startGsmaSimulator();
    kassa = await startTestKassa({
      backend: 'redis',
      env: {
        RAILS: 'gsma-mobile-money,sandbox',
        RAIL_ROUTES: JSON.stringify([{ rail: 'gsma-mobile-money', partyType: 'msisdn', currency: 'KES' }, { rail: 'sandbox' }]),
        RAIL_GSMA_MOBILE_MONEY_BASE_URL: operator.url,
        RAIL_GSMA_MOBILE_MONEY_CLIENT_ID: GSMA_SIMULATOR_DEFAULTS.clientId,
        RAIL_GSMA_MOBILE_MONEY_CLIENT_SECRET: GSMA_SIMULATOR_DEFAULTS.clientSecret,
        RAIL_GSMA_MOBILE_MONEY_CALLBACK_SECRET: GSMA_SIMULATOR_DEFAULTS.callbackSecret,
        RAIL_GSMA_MOBILE_MONEY_DISBURSEMENT_ACCOUNT: GSMA_SIMULATOR_DEFAULTS.disbursementAccount,
        RAIL_GSMA_MOBILE_MONEY_COLLECTION_ACCOUNT: GSMA_SIMULATOR_DEFAULTS.collectionAccount,
        RAIL_GSMA_MOBILE_MONEY_CURRENCIES: 'KES',
      },
    });
    api = apiClient(kassa.url, await kassa.issueKey('social-protection', ['fees:write', 'benefits:write', 'orders:read']));
  });
  after(async () => {
    await kassa?.stop();
    await operator?.close();
  });

  const orderWhen = (id: string, status: string) => orderReaching(api, id, status);

  it('when a benefit goes to a mobile wallet, then the operator pays it once and the order completes', async () => {
    const created = await api.post('/v1/orders', benefitOrder({ payee: { type: 'msisdn', value: '+254712345678' } }), randomUUID());
    assert.equal(created.body.rail, 'gsma-mobile-money');
    await orderWhen(created.body.id, 'completed');
    assert.equal(operator.executions(await railKeyOf(kassa, created.body.id)), 1);
  });

  it('when the wallet does not exist, then the order fails with the operator’s reason as an ISO code', async () => {
    const created = await api.post('/v1/orders', benefitOrder({ payee: { type: 'msisdn', value: '+254700000000' } }), randomUUID());
    const failed = await orderWhen(created.body.id, 'failed');
    assert.equal(failed.failure.code, 'AC01');
  });

  it('when a citizen pays a fee by mobile money, then the order waits for approval on the phone and completes once approved', async () => {
    const fee = {
      kind: 'fee',
      amount: '350.00',
      currency: 'KES',
      payer: { type: 'msisdn', value: '+254722334455' },
      payee: { type: 'bank_account', value: '0011223344' },
      reference: 'business permit',
    };
    const created = await api.post('/v1/orders', fee, randomUUID());
    const waiting = await orderWhen(created.body.id, 'requires_action');
    assert.equal(waiting.next_action.type, 'payer_approval');
    const railKey = await railKeyOf(kassa, created.body.id);
    const wallet = { key: 'msisdn', value: '+254722334455' } as const;
    const opening = operator.balanceOf(wallet, 'KES');
    assert.ok(opening !== undefined);
    await eventually(async () => (operator.approve(railKey) ? true : undefined), { what: 'the payment to await approval at the operator' });
    const done = await orderWhen(created.body.id, 'completed');
    assert.deepEqual(done.events.map((event: { to: string }) => event.to), ['received', 'queued', 'submitted', 'requires_action', 'completed']);
    assert.equal(operator.executions(railKey), 1);
    assert.equal(operator.balanceOf(wallet, 'KES'), opening - 35_000n, 'the fee was taken once, after approval');
  });

  it('when the operator calls back twice and early, then each order is still completed once', async () => {
    operator.setCallbackMode('duplicate');
    try {
      const ids: string[] = [];
      for (let index = 0; index < 10; index += 1) {
        ids.push((await api.post('/v1/orders', benefitOrder({ reference: `dup ${index}`, payee: { type: 'msisdn', value: `+25471100${String(index).padStart(4, '5')}` } }), randomUUID())).body.id);
      }
      for (const id of ids) {
        const done = await orderWhen(id, 'completed');
        assert.equal(done.events.filter((event: { to: string }) => event.to === 'completed').length, 1);
        assert.equal(operator.executions(await railKeyOf(kassa, id)), 1);
      }
    } finally {
      operator.setCallbackMode('normal');
    }
  });
});
