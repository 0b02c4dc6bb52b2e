import assert from 'node:assert/strict';
import { notificationsFromCamt054, parseCamt053, parseCamt054, statementEntries } from '../../adapters/bank-iso20022/camt.ts';
import { parseMt940, statementEntriesFromMt940 } from '../../adapters/bank-iso20022/mt940.ts';
import { outcomesFor, parsePain002 } from '../../adapters/bank-iso20022/pain002.ts';
import { fixture } from '../fixtures/iso20022/support.ts';

const eur = (minor: bigint) => ({ minor, currency: 'EUR' });

describe('bank-iso20022 parsers', () => {
  describe('pain.002', () => {
    it('when a report mixes statuses, then each EndToEndId maps to completed, pending or failed with its reason', () => {
      const report = parsePain002(fixture('pain002-mixed.xml'));
      const keys = Array.from({ length: 10 }, (_, i) => `E2E${String(i + 1).padStart(4, '0')}`);

      const outcomes = outcomesFor(report, [...keys, 'E2E0099']);

      assert.equal(report.originalMessageId, 'K00LTSB2Q8A1B2C3');
      assert.equal(report.groupStatus, 'PART');
      assert.deepEqual(Object.fromEntries(outcomes), {
        E2E0001: { status: 'completed', railReference: 'TX-0001' },
        E2E0002: { status: 'completed', railReference: 'E2E0002' }, // no bank reference: the EndToEndId stands in
        E2E0003: { status: 'failed', reasonCode: 'AC04', reason: 'Account closed on 2024-02-29 – Zoë Ñandú Øre', railReference: 'TX-0003' },
        E2E0004: { status: 'failed', reasonCode: 'AM04', reason: 'insufficient funds' },
        E2E0005: { status: 'failed', reasonCode: 'AC01', reason: 'IBAN check digits do not match' },
        E2E0006: { status: 'pending' },
        E2E0007: { status: 'pending', railReference: 'TX-0007' },
        E2E0008: { status: 'pending' },
        E2E0009: { status: 'pending' }, // an unfamiliar status is not guessed at: keep inquiring
        E2E0010: { status: 'failed', reasonCode: 'DS04', reason: 'order rejected by the bank' }, // inherits PmtInfSts RJCT
        E2E0099: { status: 'pending' }, // not listed: the group status PART applies
      });
    });

    it('when a transaction status lacks its EndToEndId, then the error names the element', () => {
      const broken = fixture('pain002-mixed.xml').replace('<OrgnlEndToEndId>E2E0004</OrgnlEndToEndId>', '');
      assert.throws(() => parsePain002(broken), {
        name: 'Iso20022FormatError',
        message: 'pain.002: CstmrPmtStsRpt/OrgnlPmtInfAndSts[1]/TxInfAndSts[4]/OrgnlEndToEndId is missing',
      });
    });

    it('when the document is another message, then the error says which namespace it found', () => {
      assert.throws(() => parsePain002(fixture('camt054-notification.xml')), /pain\.002: Document namespace is "urn:iso:std:iso:20022:tech:xsd:camt\.054\.001\.08"/);
    });
  });

  describe('camt.053', () => {
    it('when a file holds two statements, then both are read with their accounts, balances and entries', () => {
      const document = parseCamt053(fixture('camt053-two-statements.xml'));

      assert.equal(document.messageId, 'STMT-20240315-0001');
      assert.deepEqual(
        document.reports.map((r) => [r.id, r.account, r.currency, r.entries.length]),
        [
          ['S20240315-EUR-001', 'DE89370400440532013000', 'EUR', 4],
          ['S20240316-KES-001', '0110234567800', 'KES', 1],
        ],
      );
      const [eurStatement, kesStatement] = document.reports;
      assert.deepEqual(eurStatement!.balances.map((b) => [b.type, b.amount.minor, b.direction]), [['OPBD', 100_000_000n, 'credit'], ['CLBD', 100_383_245n, 'credit']]);
      assert.deepEqual(kesStatement!.balances.map((b) => [b.type, b.amount.minor, b.direction]), [['OPBD', 50_000n, 'credit'], ['CLBD', 100_000n, 'debit']]);
      const batch = eurStatement!.entries[0]!;
      assert.deepEqual(batch.batch, { messageId: 'K00LTSB2Q8A1B2C3', paymentInformationId: 'K00LTSB2Q8A1B2C3', numberOfTransactions: 3, total: eur(120_555n) });
      assert.deepEqual(batch.transactions.map((tx) => [tx.endToEndId, tx.amount?.minor, tx.creditorName]), [
        ['E2E0001', 12_550n, 'Zoë Ñandú Øre'],
        ['E2E0002', 8_000n, 'Jürgen Groß'],
        ['E2E0003', 100_005n, 'Łukasz Żółć & Søn'],
      ]);
      assert.equal(batch.transactions[0]!.remittance, 'Child benefit March – Zoë');
    });

    it('when entries are mapped for reconciliation, then a batch lists its keys, a single carries its key and a return its reason', () => {
      const entries = statementEntries(parseCamt053(fixture('camt053-two-statements.xml')));

      assert.deepEqual(entries, [
        {
          railReference: '2024031500017788',
          amount: eur(120_555n),
          direction: 'debit',
          bookingDate: '2024-03-15',
          valueDate: '2024-03-15',
          reversal: false,
          batchRailKeys: ['E2E0001', 'E2E0002', 'E2E0003'],
        },
        {
          railReference: 'TX-0004',
          amount: eur(4_200n),
          direction: 'debit',
          bookingDate: '2024-03-15',
          valueDate: '2024-03-18',
          reversal: false,
          railKey: 'E2E0004',
          counterparty: 'Παναγιώτης Ιωάννου',
        },
        {
          railReference: 'RT-0002',
          amount: eur(8_000n),
          direction: 'credit',
          bookingDate: '2024-03-15',
          valueDate: '2024-03-15',
          reversal: true,
          railKey: 'E2E0002',
          counterparty: 'Jürgen Groß',
          reasonCode: 'AC04',
        },
        {
          railReference: '2024031500017801',
          amount: eur(500_000n),
          direction: 'credit',
          bookingDate: '2024-03-15',
          valueDate: '2024-03-15',
          reversal: false,
          counterparty: 'Ministère des Finances',
        },
        {
          railReference: 'KE-77-0091',
          amount: { minor: 150_000n, currency: 'KES' },
          direction: 'debit',
          bookingDate: '2024-03-16',
          valueDate: '2024-03-16',
          reversal: false,
          railKey: 'E2E0005',
          counterparty: 'Wanjikũ Njoroge',
        },
      ]);
    });

    it('when an amount in the second statement uses a decimal comma, then the error names Stmt[2]', () => {
      const broken = fixture('camt053-two-statements.xml').replace('<Amt Ccy="KES">1500.00</Amt>', '<Amt Ccy="KES">1500,00</Amt>');
      assert.throws(() => parseCamt053(broken), {
        message: 'camt.053: BkToCstmrStmt/Stmt[2]/Ntry/Amt: "1500,00" is not a decimal amount such as 125.50',
      });
    });

    it('when an entry lacks its credit/debit indicator or has too many decimals, then the error names the entry', () => {
      const noIndicator = fixture('camt053-two-statements.xml').replace(/(<Amt Ccy="EUR">42\.00<\/Amt>\s*)<CdtDbtInd>DBIT<\/CdtDbtInd>/, '$1');
      assert.throws(() => parseCamt053(noIndicator), { message: 'camt.053: BkToCstmrStmt/Stmt[1]/Ntry[2]/CdtDbtInd is missing' });
      const tooPrecise = fixture('camt053-two-statements.xml').replace('<Amt Ccy="EUR">5000.00</Amt>', '<Amt Ccy="EUR">5000.001</Amt>');
      assert.throws(() => parseCamt053(tooPrecise), /Stmt\[1\]\/Ntry\[4\]\/Amt: "5000\.001" has more decimal places than EUR \(2\)/);
    });

    it('when the file is not well-formed XML, then the error gives the line', () => {
      assert.throws(() => parseCamt053(fixture('camt053-not-well-formed.xml')), /^Iso20022FormatError: camt\.053: malformed XML at line 13, column \d+: .*Ntry/);
    });

    it('when the file is empty, carries a DOCTYPE or is not ISO 20022, then it is refused clearly', () => {
      assert.throws(() => parseCamt053(''), /camt\.053: the document is empty/);
      assert.throws(() => parseCamt053('<!DOCTYPE x [<!ENTITY a "b">]><Document/>'), /DOCTYPE is not allowed/);
      assert.throws(() => parseCamt053('<Statement><Line/></Statement>'), /root element is <Statement>, expected <Document>/);
    });
  });

  describe('camt.054', () => {
    it('when a notification is pushed, then booked debits complete, returns fail with their reason and pending stays pending', () => {
      const notifications = notificationsFromCamt054(parseCamt054(fixture('camt054-notification.xml')));

      assert.deepEqual(notifications, [
        { railKey: 'E2E0006', outcome: { status: 'completed', railReference: 'TX-0006' } },
        { railKey: 'E2E0007', outcome: { status: 'failed', reasonCode: 'MD07', reason: "returned by the creditor's bank: end customer deceased", railReference: 'E-0007R' } },
        { railKey: 'E2E0008', outcome: { status: 'pending' } },
        { railKey: 'E2E0009', outcome: { status: 'completed', railReference: 'TX-0009' } },
        { railKey: 'E2E0010', outcome: { status: 'completed', railReference: 'TX-0010' } },
      ]);
    });

    it('when the bank writes prefixed element names (<ns2:Document xmlns:ns2=…>), then the notification reads the same', () => {
      const plain = fixture('camt054-notification.xml');
      const prefixed = plain.replace(/<(\/?)(?=[A-Za-z])/g, '<$1ns2:').replace('xmlns="urn:', 'xmlns:ns2="urn:');
      assert.match(prefixed, /<ns2:Document xmlns:ns2="urn:iso:std:iso:20022:tech:xsd:camt\.054\.001\.08">/);

      assert.deepEqual(notificationsFromCamt054(parseCamt054(prefixed)), notificationsFromCamt054(parseCamt054(plain)));
    });

    it('when a notification misses its account, then the error names Ntfctn/Acct', () => {
      const broken = fixture('camt054-notification.xml').replace(/<Acct>[\s\S]*?<\/Acct>/, '');
      assert.throws(() => parseCamt054(broken), { message: 'camt.054: BkToCstmrDbtCdtNtfctn/Ntfctn/Acct is missing' });
    });
  });

  describe('MT940', () => {
    it('when a file holds two statements, then marks C/D/RC/RD, comma amounts, :86: codes and dates are read', () => {
      const statements = parseMt940(fixture('mt940-two-statements.sta'));

      assert.equal(statements.length, 2);
      const [eurStatement, jpyStatement] = statements;
      assert.deepEqual(
        [eurStatement!.reference, eurStatement!.account, eurStatement!.statementNumber, eurStatement!.currency],
        ['STMT240315EUR', 'DE89370400440532013000', '74/1', 'EUR'],
      );
      assert.deepEqual(eurStatement!.openingBalance, { direction: 'credit', date: '2024-03-14', amount: eur(100_000_000n) });
      assert.deepEqual(eurStatement!.closingBalance, { direction: 'credit', date: '2024-03-15', amount: eur(100_383_145n) });
      assert.deepEqual(
        eurStatement!.entries.map((e) => [e.mark, e.direction, e.reversal, e.amount.minor, e.bookingDate, e.valueDate]),
        [
          ['D', 'debit', false, 120_555n, '2024-03-15', '2024-03-15'],
          ['D', 'debit', false, 4_200n, '2024-03-15', '2024-03-18'],
          ['RD', 'credit', true, 8_000n, '2024-03-15', '2024-03-15'],
          ['C', 'credit', false, 500_000n, '2024-03-15', '2024-03-15'],
          ['RC', 'debit', true, 100n, '2024-03-15', '2024-03-15'],
        ],
      );
      const single = eurStatement!.entries[1]!;
      assert.equal(single.supplementaryDetails, 'SEPA-UEBERWEISUNG');
      assert.deepEqual(single.codes, { EREF: 'E2E0004', NAME: 'Panagiotis Ioannou', IBAN: 'GR1601101250000000012300695', REMI: 'Child benefit March' });
      assert.equal(eurStatement!.entries[2]!.codes.NAME, 'Jürgen Groß');
      assert.equal(eurStatement!.entries[4]!.information, 'Correction of an erroneous credit');

      assert.deepEqual(jpyStatement!.openingBalance, { direction: 'debit', date: '2023-12-29', amount: { minor: 1_000n, currency: 'JPY' } });
      assert.deepEqual(
        jpyStatement!.entries.map((e) => [e.valueDate, e.bookingDate, e.amount.minor, e.codes.NAME]),
        [['2023-12-31', '2024-01-02', 1_500n, 'Zoë Ñandú Øre']], // the entry date crosses the year end
      );
    });

    it('when statement lines are mapped for reconciliation, then keys, references, reversals and return reasons come through', () => {
      const entries = statementEntriesFromMt940(parseMt940(fixture('mt940-two-statements.sta')));

      assert.deepEqual(
        entries.map((e) => [e.railReference, e.railKey, e.direction, e.reversal, e.reasonCode, e.counterparty]),
        [
          ['2024031500017788', undefined, 'debit', false, undefined, undefined], // a batch: MT940 has no room for its keys
          ['TX-0004', 'E2E0004', 'debit', false, undefined, 'Panagiotis Ioannou'],
          ['RT-0002', 'E2E0002', 'credit', true, 'AC04', 'Jürgen Groß'],
          ['2024031500017801', undefined, 'credit', false, undefined, 'Ministère des Finances'],
          ['CORR-1', undefined, 'debit', true, undefined, undefined],
          ['JP-1', 'E2E0011', 'credit', false, undefined, 'Zoë Ñandú Øre'],
        ],
      );
    });

    it('when an amount uses a decimal point, then the error names the line', () => {
      assert.throws(() => parseMt940(fixture('mt940-bad-amount.sta')), /^Mt940FormatError: MT940 line 5: :61: statement line "2403150315D12\.50NTRFNONREF\/\/TX-1" is not/);
    });

    it('when a statement does not add up, lacks its closing balance or starts with garbage, then the error says where', () => {
      const good = fixture('mt940-two-statements.sta');
      assert.throws(() => parseMt940(good.replace(':62F:C240315EUR1003831,45', ':62F:C240315EUR1003831,46')), /MT940 line 18: closing balance 100383146 \(minor units\) is not the opening balance plus the statement lines \(100383145\)/);
      assert.throws(() => parseMt940(good.replace(':62F:C240102JPY500,\r\n', '')), /MT940 statement at line 20: :62F: closing balance is missing/);
      assert.throws(() => parseMt940(`hello\n${good}`), /MT940 line 1: expected a field such as :20:, found "hello"/);
      assert.throws(() => parseMt940(good.replace(':61:2403180315D42,', ':61:2413180315D42,')), /MT940 line 8: :61: "241318" is not a date \(YYMMDD\)/);
      assert.throws(() => parseMt940(''), /the file holds no statement/);
    });
  });
});
