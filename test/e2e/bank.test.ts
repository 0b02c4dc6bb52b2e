import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { BANK_SIMULATOR_TREASURY, startBankSimulator, type BankSimulator } from '../../adapters/bank-iso20022/simulator.ts';
import { ibanEndingWith } from '../fixtures/iso20022/support.ts';
import { apiClient, benefitOrder } from '../support/http.ts';
import { orderReaching, railKeyOf, startTestKassa, type TestKassa } from '../support/kassa.ts';

describe('benefits over HTTP to bank accounts through the ISO 20022 rail', () => {
  let kassa: TestKassa;
  let bank: BankSimulator;
  let api: ReturnType<typeof apiClient>;

  before(async () => {
    bank = await startBankSimulator();
    kassa = await startTestKassa({
      backend: 'postgres',
      env: {
        RAILS: 'bank-iso20022,sandbox',
        RAIL_ROUTES: JSON.stringify([{ rail: 'bank-iso20022', partyType: 'iban', direction: 'disbursement' }, { rail: 'sandbox' }]),
        RAIL_BANK_ISO20022_BASE_URL: bank.url,
        RAIL_BANK_ISO20022_DEBTOR_NAME: BANK_SIMULATOR_TREASURY.name,
        RAIL_BANK_ISO20022_DEBTOR_IBAN: BANK_SIMULATOR_TREASURY.iban,
        RAIL_BANK_ISO20022_DEBTOR_BIC: BANK_SIMULATOR_TREASURY.bic,
        RAIL_BANK_ISO20022_CALLBACK_SECRET: bank.callbackSecret,
      },
    });
    api = apiClient(kassa.url, await kassa.issueKey('pensions-agency', ['benefits:write', 'orders:read']));
  });
  after(async () => {
    await kassa?.stop();
    await bank?.close();
  });

  const orderWhen = (id: string, status: string) => orderReaching(api, id, status);
  const toIban = (iban: string) => benefitOrder({ payee: { type: 'iban', value: iban, institution: 'SIMBDEFFXXX' }, currency: 'EUR', amount: '310.45' });

  it('when a benefit goes to an IBAN, then the bank executes it once under the order’s EndToEndId and the order completes', async () => {
    const created = await api.post('/v1/orders', toIban(ibanEndingWith('4521')), randomUUID());
    assert.equal(created.body.rail, 'bank-iso20022');
    await orderWhen(created.body.id, 'completed');
    assert.equal(bank.executions(await railKeyOf(kassa, created.body.id)), 1);
  });

  it('when the creditor account is closed, then the order fails with AC04 from the pain.002', async () => {
    const created = await api.post('/v1/orders', toIban(ibanEndingWith('0000')), randomUUID());
    const failed = await orderWhen(created.body.id, 'failed');
    assert.equal(failed.failure.code, 'AC04');
  });

  it('when the bank settles later, then its signed push completes the order', async () => {
    const created = await api.post('/v1/orders', toIban(ibanEndingWith('0002')), randomUUID());
    await orderWhen(created.body.id, 'completed');
    assert.equal(bank.executions(await railKeyOf(kassa, created.body.id)), 1);
  });

  it('when many benefits arrive together, then they travel in one pain.001 per chunk and each is executed once', async () => {
    const ids = await Promise.all(Array.from({ length: 40 }, (_, index) => api.post('/v1/orders', toIban(ibanEndingWith(String(5000 + index))), randomUUID()).then((answer) => answer.body.id as string)));
    for (const id of ids) await orderWhen(id, 'completed');
    for (const id of ids) assert.equal(bank.executions(await railKeyOf(kassa, id)), 1);
    const statement = await kassa.runtime.context.rails.get('bank-iso20022').fetchStatement!({ from: new Date().toISOString().slice(0, 10), to: new Date().toISOString().slice(0, 10) });
    const ours = new Set(await Promise.all(ids.map((id) => railKeyOf(kassa, id))));
    const covering = statement.filter((entry) => [entry.railKey, ...(entry.batchRailKeys ?? [])].some((key) => key !== undefined && ours.has(key)));
    const covered = new Set(covering.flatMap((entry) => [entry.railKey, ...(entry.batchRailKeys ?? [])]));
    for (const key of ours) assert.ok(covered.has(key), 'the statement accounts for every executed payment');
    assert.ok(covering.length < ours.size, `the bank booked chunks, not single payments: ${covering.length} entries for ${ours.size} payments`);
  });
});
