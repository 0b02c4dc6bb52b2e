import assert from 'node:assert/strict';
import type { RailPayment } from '../../adapters/contract.ts';
import { buildPain001, creditTransferProblem, parsePain001, type Pain001Input } from '../../adapters/bank-iso20022/pain001.ts';
import { ibanEndingWith } from '../fixtures/iso20022/support.ts';

const DEBTOR = { name: 'Ministry of Finance – Treasury', iban: 'DE89370400440532013000', bic: 'COBADEFFXXX' };

function payment(overrides: Partial<RailPayment> = {}): RailPayment {
  return {
    railKey: `K${Math.random().toString(36).slice(2, 12)}`,
    kind: 'benefit',
    amount: { minor: 12_550n, currency: 'EUR' },
    payer: { type: 'iban', value: DEBTOR.iban },
    payee: { type: 'iban', value: ibanEndingWith('5555') },
    reference: 'Child benefit March',
    callbackUrl: 'http://127.0.0.1:1/callbacks',
    ...overrides,
  };
}

function build(payments: readonly RailPayment[], overrides: Partial<Pain001Input> = {}) {
  return buildPain001({ messageId: 'K00LTSB2Q8A1B2C3', createdAt: new Date('2024-03-15T08:00:00.000Z'), initiatingPartyName: 'Kassa', debtor: DEBTOR, payments, ...overrides });
}

describe('bank-iso20022 pain.001', () => {
  it('when a chunk is built, then GrpHdr and PmtInf declare its count and exact control sum, and each EndToEndId is the rail key', () => {
    const payments = [
      payment({ amount: { minor: 5n, currency: 'EUR' } }), // 0.05
      payment({ amount: { minor: 1n, currency: 'JPY' } }), // 1
      payment({ amount: { minor: 1_005n, currency: 'BHD' } }), // 1.005
      payment({ amount: { minor: 9_007_199_254_740_993n, currency: 'KES' } }), // beyond a double's exact range
    ];

    const built = build(payments);
    const parsed = parsePain001(built.xml);

    assert.equal(built.numberOfTransactions, 4);
    assert.equal(built.controlSum, '90071992547411.985'); // 0.050 + 1 + 1.005 + 90071992547409.930, exactly
    assert.equal(parsed.numberOfTransactions, 4);
    assert.equal(parsed.controlSum, built.controlSum);
    assert.match(built.xml, /<GrpHdr><MsgId>K00LTSB2Q8A1B2C3<\/MsgId><CreDtTm>2024-03-15T08:00:00.000Z<\/CreDtTm><NbOfTxs>4<\/NbOfTxs><CtrlSum>90071992547411.985<\/CtrlSum>/);
    assert.match(built.xml, /<PmtInf><PmtInfId>K00LTSB2Q8A1B2C3<\/PmtInfId><PmtMtd>TRF<\/PmtMtd><BtchBookg>true<\/BtchBookg><NbOfTxs>4<\/NbOfTxs><CtrlSum>90071992547411.985<\/CtrlSum><ReqdExctnDt><Dt>2024-03-15<\/Dt>/);
    const [info] = parsed.paymentInformation;
    assert.deepEqual(info!.debtorAccount, { iban: DEBTOR.iban });
    assert.equal(info!.debtorAgentBic, DEBTOR.bic);
    assert.deepEqual(
      info!.transactions.map((tx) => [tx.endToEndId, tx.amount]),
      payments.map((p) => [p.railKey, p.amount]),
    );
    assert.match(built.xml, /<InstdAmt Ccy="EUR">0\.05<\/InstdAmt>.*<InstdAmt Ccy="JPY">1<\/InstdAmt>.*<InstdAmt Ccy="BHD">1\.005<\/InstdAmt>.*<InstdAmt Ccy="KES">90071992547409\.93<\/InstdAmt>/s);
  });

  it('when payees are IBANs or other bank accounts with or without a BIC, then account and agent are written accordingly', () => {
    const iban = payment({ payee: { type: 'iban', value: ibanEndingWith('1234'), institution: 'cobadeffxxx' } });
    const account = payment({ payee: { type: 'bank_account', value: '0110234567800', institution: 'KCB-01' } });
    const bare = payment({ payee: { type: 'bank_account', value: 'ACC-42' } });

    const [info] = parsePain001(build([iban, account, bare]).xml).paymentInformation;

    assert.deepEqual(
      info!.transactions.map((tx) => [tx.creditorAccount, tx.creditorAgentBic, tx.creditorAgentOther, tx.creditorName]),
      [
        [{ iban: iban.payee.value }, 'COBADEFFXXX', undefined, 'NOTPROVIDED'],
        [{ other: '0110234567800' }, undefined, 'KCB-01', 'NOTPROVIDED'],
        [{ other: 'ACC-42' }, undefined, undefined, 'NOTPROVIDED'],
      ],
    );
  });

  it('when references hold XML specials, foreign letters, control characters or too much text, then they are escaped, cleaned and cut to 140', () => {
    const tricky = payment({ reference: `Zoë Ñandú Øre <benefit> & "arrears" 'Q1'\u0000\u0007 ${'x'.repeat(200)}` });
    const empty = payment({ reference: ' \u0001 ' });

    const built = build([tricky, empty]);
    const [first, second] = parsePain001(built.xml).paymentInformation[0]!.transactions;

    assert.match(built.xml, /<Ustrd>Zoë Ñandú Øre &lt;benefit&gt; &amp; &quot;arrears&quot; &apos;Q1&apos;/);
    assert.ok(first!.remittance!.startsWith(`Zoë Ñandú Øre <benefit> & "arrears" 'Q1'   x`));
    assert.equal(Array.from(first!.remittance!).length, 140);
    assert.equal(second!.remittance, undefined, 'an empty reference leaves RmtInf out');
  });

  it('when a payment cannot travel as a credit transfer, then the problem carries the ISO reason a bank would give', () => {
    assert.equal(creditTransferProblem(payment()), undefined);
    assert.equal(creditTransferProblem(payment({ kind: 'fee' }))?.reasonCode, 'AG03');
    assert.equal(creditTransferProblem(payment({ payee: { type: 'msisdn', value: '+254712345678' } }))?.reasonCode, 'AC03');
    assert.equal(creditTransferProblem(payment({ payee: { type: 'iban', value: 'DE00370400440532013000' } }))?.reasonCode, 'AC01');
    assert.equal(creditTransferProblem(payment({ payee: { type: 'bank_account', value: 'a b' } }))?.reasonCode, 'AC01');
    assert.equal(creditTransferProblem(payment({ amount: { minor: 100n, currency: 'XAU' } }))?.reasonCode, 'AM03');
    assert.equal(creditTransferProblem(payment({ amount: { minor: 0n, currency: 'EUR' } }))?.reasonCode, 'AM12');
    assert.throws(() => build([payment({ kind: 'fee' })]), /pain\.001: payment K\w+: a bank credit transfer pays out/);
    assert.throws(() => build([payment({ railKey: 'K'.repeat(36) })]), /must be 1 to 35 characters/);
    assert.throws(() => build([]), /at least one payment/);
  });

  describe('read by the bank (parsePain001)', () => {
    const valid = () => build([payment({ railKey: 'E2E0001', amount: { minor: 1_000n, currency: 'EUR' } }), payment({ railKey: 'E2E0002', amount: { minor: 2_000n, currency: 'EUR' } })]).xml;

    it('when the control sum or count is wrong, then it is refused AM10 / AM18 naming the element', () => {
      assert.throws(() => parsePain001(valid().replace('<CtrlSum>30.00</CtrlSum><InitgPty>', '<CtrlSum>30.01</CtrlSum><InitgPty>')), {
        message: 'pain.001: CstmrCdtTrfInitn/GrpHdr/CtrlSum: is 30.01, the amounts add up to 30.00',
        reasonCode: 'AM10',
      });
      assert.throws(() => parsePain001(valid().replace('<NbOfTxs>2</NbOfTxs><CtrlSum>30.00</CtrlSum><ReqdExctnDt>', '<NbOfTxs>3</NbOfTxs><CtrlSum>30.00</CtrlSum><ReqdExctnDt>')), {
        message: 'pain.001: CstmrCdtTrfInitn/PmtInf/NbOfTxs: declares 3 transactions, the PmtInf holds 2',
        reasonCode: 'AM18',
      });
    });

    it('when an EndToEndId repeats or is missing, or an amount is negative, then the transaction is named', () => {
      assert.throws(() => parsePain001(valid().replace('E2E0002', 'E2E0001')), { reasonCode: 'DU04', message: /CdtTrfTxInf\[2\]\/PmtId: EndToEndId "E2E0001" occurs twice/ });
      assert.throws(() => parsePain001(valid().replace('<EndToEndId>E2E0002</EndToEndId>', '')), { message: 'pain.001: CstmrCdtTrfInitn/PmtInf/CdtTrfTxInf[2]/PmtId/EndToEndId is missing' });
      assert.throws(() => parsePain001(valid().replace('>10.00<', '>-10.00<')), { reasonCode: 'AM12', message: /CdtTrfTxInf\[1\]\/Amt\/InstdAmt: "-10.00" is not a decimal amount/ });
    });

    it('when the message is too large for the bank or not XML, then it is refused', () => {
      assert.throws(() => parsePain001(valid(), { maxTransactions: 1 }), { reasonCode: 'AM18', message: /2 transactions exceed the bank's limit of 1/ });
      assert.throws(() => parsePain001('<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.09"><CstmrCdtTrfInitn>'), { reasonCode: 'FF01', message: /pain\.001: malformed XML at line 1/ });
    });
  });
});
