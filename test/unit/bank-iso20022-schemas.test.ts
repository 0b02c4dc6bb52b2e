import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import type { RailPayment } from '../../adapters/contract.ts';
import { buildPain001 } from '../../adapters/bank-iso20022/pain001.ts';
import { BANK_SIMULATOR_TREASURY, startBankSimulator, type BankSimulator } from '../../adapters/bank-iso20022/simulator.ts';
import { freshKey } from '../conformance/rail-adapter-contract.ts';
import { assertSchemaValid, fixture, ibanEndingWith, writeIsoBasePain001Xsd, xmllint, xsdPath } from '../fixtures/iso20022/support.ts';

/**
 * Every message Kassa writes (pain.001) and every message the simulated bank writes (pain.002, camt.053,
 * camt.054) is checked against the official ISO 20022 schemas in ../shared/iso20022 with xmllint.
 */

const DEBTOR = BANK_SIMULATOR_TREASURY;
const REFERENCES = ['Child benefit March', 'Zoë Ñandú Øre – arrears <Q1> & "bonus"', 'Παναγιώτης / 子ども手当', `long ${'x'.repeat(300)}`];
const CURRENCIES = [
  { currency: 'EUR', minor: 12_550n },
  { currency: 'JPY', minor: 15_000n },
  { currency: 'BHD', minor: 1_005n },
  { currency: 'KES', minor: 9_007_199_254_740_993n },
];

function payment(suffix: string, i: number, overrides: Partial<RailPayment> = {}): RailPayment {
  const { currency, minor } = CURRENCIES[i % CURRENCIES.length]!;
  return {
    railKey: freshKey('S'),
    kind: 'benefit',
    amount: { minor: minor + BigInt(i), currency },
    payer: { type: 'iban', value: DEBTOR.iban },
    payee: { type: 'iban', value: ibanEndingWith(suffix), ...(i % 3 === 0 ? { institution: 'COBADEFFXXX' } : i % 3 === 1 ? { institution: 'KCB-01' } : {}) },
    reference: REFERENCES[i % REFERENCES.length]!,
    callbackUrl: 'http://127.0.0.1:1/unused',
    ...overrides,
  };
}

function pain001(payments: readonly RailPayment[]) {
  return buildPain001({ messageId: freshKey('M').slice(0, 16), createdAt: new Date(), initiatingPartyName: 'Kassa – Treasury', debtor: DEBTOR, payments });
}

async function post(simulator: BankSimulator, xml: string, callbackUrl?: string): Promise<{ status: number; body: string }> {
  const response = await fetch(`${simulator.url}/pain001`, {
    method: 'POST',
    headers: { 'content-type': 'application/xml', ...(callbackUrl && { 'x-callback-url': callbackUrl }) },
    body: xml,
  });
  return { status: response.status, body: await response.text() };
}

describe('bank-iso20022 messages against the official ISO 20022 schemas', function () {
  this.timeout(20_000);

  it('when Kassa builds pain.001s of IBAN payees (one payment, a full chunk of 1,000, foreign text, 0- and 2-decimal currencies), then they validate against the shared pain.001.001.09 (EPC profile)', () => {
    const sepa = (i: number) => payment(i % 7 === 0 ? '0000' : '5555', i, { amount: { minor: 12_550n + BigInt(i), currency: ['EUR', 'JPY', 'KES'][i % 3]! } });
    const one = pain001([sepa(0)]);
    const full = pain001(Array.from({ length: 1000 }, (_, i) => sepa(i)));
    const longNames = buildPain001({
      messageId: 'K00LTSB2Q8A1B2C3',
      createdAt: new Date(),
      initiatingPartyName: `Kassa ${'ü'.repeat(100)}`,
      debtor: { ...DEBTOR, name: `Treasury ${'Ø'.repeat(100)}` },
      payments: [sepa(1)],
    });
    assert.equal(full.numberOfTransactions, 1000);

    assertSchemaValid('pain.001.001.09.xsd', { 'pain001-one': one.xml, 'pain001-chunk-of-1000': full.xml, 'pain001-long-names': longNames.xml });
  });

  it('when a chunk goes beyond the EPC profile (bank_account payees, a national bank code, three decimals, a huge amount), then it is valid ISO 20022 and the profile objects to nothing else', () => {
    const xml = pain001(Array.from({ length: 40 }, (_, i) => payment('5555', i)).concat([
      payment('5555', 1, { payee: { type: 'bank_account', value: '0110234567800', institution: 'KCB-01' } }),
      payment('5555', 2, { payee: { type: 'bank_account', value: 'ACC-42' } }),
    ])).xml;

    const profile = xmllint(xsdPath('pain.001.001.09.xsd'), { 'pain001-beyond-profile': xml });
    const complaints = profile.report.split('\n').filter((line) => line.includes('Schemas validity error'));
    assert.equal(profile.ok, false);
    assert.ok(complaints.length > 0);
    for (const line of complaints) assert.match(line, /element (Othr|InstdAmt|CtrlSum): /, `an unexpected complaint: ${line}`);

    const base = writeIsoBasePain001Xsd();
    try {
      const iso = xmllint(base.path, { 'pain001-beyond-profile': xml });
      assert.ok(iso.ok, iso.report);
    } finally {
      base.dispose();
    }
  });

  describe('what the simulated bank writes', () => {
    let simulator: BankSimulator;
    let server: Server;
    let callbackUrl: string;
    const pushes: string[] = [];

    before(async () => {
      server = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (chunk: Buffer) => chunks.push(chunk));
        req.on('end', () => {
          pushes.push(Buffer.concat(chunks).toString('utf8'));
          res.statusCode = 204;
          res.end();
        });
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      callbackUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/callbacks`;
    });
    after(async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    });
    beforeEach(async () => {
      pushes.length = 0;
      simulator = await startBankSimulator({ settleDelayMs: 50, notifyWith: 'camt.054', openingBalanceMinor: 1_000_000n });
    });
    afterEach(async () => {
      await simulator.close();
    });

    it('when the bank answers, reports, pushes and states, then its pain.002, camt.053 and camt.054 validate', async () => {
      const completed = Array.from({ length: 8 }, (_, i) => payment('5555', i));
      const rejected = [payment('0000', 0), payment('0001', 1)];
      const settling = [payment('0002', 0), payment('0002', 5)];
      const failingLater = payment('0003', 2);
      const chunk = pain001([...completed, ...rejected, ...settling, failingLater]);

      const answer = await post(simulator, chunk.xml, callbackUrl);
      assert.equal(answer.status, 200);
      const resent = await post(simulator, pain001(completed.slice(0, 2)).xml, callbackUrl);
      const malformed = await post(simulator, chunk.xml.replace(`<NbOfTxs>${chunk.numberOfTransactions}</NbOfTxs>`, '<NbOfTxs>99</NbOfTxs>'));
      assert.equal(malformed.status, 400);
      const status = await (await fetch(`${simulator.url}/payments/${rejected[0]!.railKey}/status`)).text();
      while (pushes.length < 2) await delay(10); // the settled batch (camt.054) and the late rejection (pain.002)
      simulator.returnPayment(completed[3]!.railKey, 'MD07');
      while (pushes.length < 3) await delay(10);
      const today = new Date().toISOString().slice(0, 10);
      const statement = await (await fetch(`${simulator.url}/statements/camt053?from=${today}&to=${today}`)).text();
      const empty = await (await fetch(`${simulator.url}/statements/camt053?from=2001-01-01&to=2001-01-02`)).text();

      const camt054 = pushes.filter((p) => p.includes('camt.054.001.08'));
      const pushedPain002 = pushes.filter((p) => p.includes('pain.002.001.11'));
      assert.equal(camt054.length, 2);
      assert.equal(pushedPain002.length, 1);
      assertSchemaValid('pain.002.001.11.xsd', { answer: answer.body, resent: resent.body, rejection: malformed.body, status, pushed: pushedPain002[0]! });
      assertSchemaValid('camt.053.001.08.xsd', { statement, empty });
      assertSchemaValid('camt.054.001.08.xsd', Object.fromEntries(camt054.map((xml, i) => [`push-${i}`, xml])));
      assert.match(statement, /<RvslInd>true<\/RvslInd>/);
      assert.match(statement, /<Btch><MsgId>/);
    });
  });

  it('when the test fixtures are read, then they are real-shaped: valid against their schemas', () => {
    assertSchemaValid('camt.053.001.08.xsd', { 'camt053-two-statements': fixture('camt053-two-statements.xml') });
    assertSchemaValid('camt.054.001.08.xsd', { 'camt054-notification': fixture('camt054-notification.xml') });
    assertSchemaValid('pain.002.001.11.xsd', { 'pain002-mixed': fixture('pain002-mixed.xml') });
  });
});
