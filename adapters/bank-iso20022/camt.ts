import type { Money } from '../../src/domain/money.ts';
import type { RailNotification, RailStatementEntry } from '../contract.ts';
import { describeReason } from './reason-codes.ts';
import { amountOf, dateOf, readDocument, type XmlElement } from './xml.ts';

/**
 * camt.053 BankToCustomerStatement (end of day) and camt.054 BankToCustomerDebitCreditNotification
 * (intraday), read for version .08 and any camt.05x.001.xx with the same shape. Both carry account
 * reports (Stmt / Ntfctn) of entries (Ntry); a batch entry (one booking for a whole pain.001) lists
 * its transactions under NtryDtls/TxDtls with their EndToEndIds. A reversal (RvslInd true) undoes
 * an earlier entry: a returned credit transfer comes back as a credit with RvslInd and RtrInf.
 */

export type Direction = 'credit' | 'debit';

export interface CamtTransaction {
  readonly endToEndId?: string;
  readonly accountServicerReference?: string;
  readonly messageId?: string;
  readonly paymentInformationId?: string;
  readonly amount?: Money;
  readonly direction?: Direction;
  readonly creditorName?: string;
  readonly creditorAccount?: string;
  readonly debtorName?: string;
  readonly debtorAccount?: string;
  readonly remittance?: string;
  readonly returnReasonCode?: string;
  readonly returnReasonText?: string;
}

export interface CamtBatch {
  readonly messageId?: string;
  readonly paymentInformationId?: string;
  readonly numberOfTransactions?: number;
  readonly total?: Money;
}

export interface CamtEntry {
  /** AcctSvcrRef, else NtryRef. */
  readonly reference?: string;
  readonly amount: Money;
  readonly direction: Direction;
  readonly reversal: boolean;
  /** BOOK, PDNG, INFO… */
  readonly status: string;
  readonly bookingDate?: string;
  readonly valueDate?: string;
  readonly batch?: CamtBatch;
  readonly transactions: readonly CamtTransaction[];
}

export interface CamtBalance {
  /** OPBD, CLBD, PRCD, CLAV… */
  readonly type: string;
  readonly amount: Money;
  readonly direction: Direction;
  readonly date: string;
}

export interface CamtAccountReport {
  readonly id: string;
  /** The IBAN, or the Othr/Id. */
  readonly account: string;
  readonly currency?: string;
  readonly balances: readonly CamtBalance[];
  readonly entries: readonly CamtEntry[];
}

export interface CamtDocument {
  readonly messageId: string;
  readonly createdAt: string;
  readonly reports: readonly CamtAccountReport[];
}

export function parseCamt053(xml: string | Buffer): CamtDocument {
  const root = readDocument(xml, { what: 'camt.053', namespace: /^urn:iso:std:iso:20022:tech:xsd:camt\.053\.001\.\d\d$/, root: 'BkToCstmrStmt' });
  return camtDocument(root, 'Stmt');
}

export function parseCamt054(xml: string | Buffer): CamtDocument {
  const root = readDocument(xml, { what: 'camt.054', namespace: /^urn:iso:std:iso:20022:tech:xsd:camt\.054\.001\.\d\d$/, root: 'BkToCstmrDbtCdtNtfctn' });
  return camtDocument(root, 'Ntfctn');
}

function camtDocument(root: XmlElement, reportName: 'Stmt' | 'Ntfctn'): CamtDocument {
  const header = root.required('GrpHdr');
  const reports = root.children(reportName).map(accountReport);
  if (reports.length === 0) throw root.error(`has no <${reportName}>`);
  return { messageId: header.requiredText('MsgId'), createdAt: header.requiredText('CreDtTm'), reports };
}

function accountReport(report: XmlElement): CamtAccountReport {
  const account = report.required('Acct');
  const id = account.required('Id');
  const accountId = id.optionalText('IBAN') ?? id.optional('Othr')?.optionalText('Id');
  if (accountId === undefined) throw id.error('has neither <IBAN> nor <Othr><Id>');
  const currency = account.optionalText('Ccy');
  return {
    id: report.requiredText('Id'),
    account: accountId,
    balances: report.children('Bal').map(balance),
    entries: report.children('Ntry').map(entry),
    ...(currency !== undefined && { currency }),
  };
}

function balance(bal: XmlElement): CamtBalance {
  const kind = bal.required('Tp').required('CdOrPrtry');
  const type = kind.optionalText('Cd') ?? kind.optionalText('Prtry');
  if (type === undefined) throw kind.error('has neither <Cd> nor <Prtry>');
  return { type, amount: amountOf(bal.required('Amt')), direction: direction(bal), date: dateOf(bal.required('Dt')) };
}

function direction(parent: XmlElement): Direction {
  const code = parent.requiredText('CdtDbtInd');
  if (code === 'CRDT') return 'credit';
  if (code === 'DBIT') return 'debit';
  throw parent.required('CdtDbtInd').error(`"${code}" is neither CRDT nor DBIT`);
}

function optionalDirection(parent: XmlElement): Direction | undefined {
  return parent.has('CdtDbtInd') ? direction(parent) : undefined;
}

function entry(ntry: XmlElement): CamtEntry {
  const status = entryStatus(ntry.required('Sts'));
  const bookingDate = ntry.has('BookgDt') ? dateOf(ntry.required('BookgDt')) : undefined;
  if (status === 'BOOK' && bookingDate === undefined) throw ntry.error('is booked (BOOK) but has no <BookgDt>');
  const valueDate = ntry.has('ValDt') ? dateOf(ntry.required('ValDt')) : undefined;
  const reversalText = ntry.optionalText('RvslInd');
  if (reversalText !== undefined && !['true', 'false', '1', '0'].includes(reversalText)) {
    throw ntry.required('RvslInd').error(`"${reversalText}" is not a boolean`);
  }
  const reference = ntry.optionalText('AcctSvcrRef') ?? ntry.optionalText('NtryRef');
  let batch: CamtBatch | undefined;
  const transactions: CamtTransaction[] = [];
  for (const details of ntry.children('NtryDtls')) {
    const btch = details.optional('Btch');
    if (btch && !batch) batch = batchOf(btch);
    for (const tx of details.children('TxDtls')) transactions.push(transaction(tx));
  }
  return {
    amount: amountOf(ntry.required('Amt')),
    direction: direction(ntry),
    reversal: reversalText === 'true' || reversalText === '1',
    status,
    transactions,
    ...(reference !== undefined && { reference }),
    ...(bookingDate !== undefined && { bookingDate }),
    ...(valueDate !== undefined && { valueDate }),
    ...(batch !== undefined && { batch }),
  };
}

/** v08: <Sts><Cd>BOOK</Cd></Sts>; up to v03: <Sts>BOOK</Sts>. */
function entryStatus(sts: XmlElement): string {
  const status = sts.has('Cd') || sts.has('Prtry') ? (sts.optionalText('Cd') ?? sts.optionalText('Prtry')) : sts.text();
  if (!status) throw sts.error('is empty');
  return status;
}

function batchOf(btch: XmlElement): CamtBatch {
  const messageId = btch.optionalText('MsgId');
  const paymentInformationId = btch.optionalText('PmtInfId');
  const count = btch.optionalText('NbOfTxs');
  if (count !== undefined && !/^\d{1,15}$/.test(count)) throw btch.required('NbOfTxs').error(`"${count}" is not a count`);
  const total = btch.has('TtlAmt') ? amountOf(btch.required('TtlAmt')) : undefined;
  return {
    ...(messageId !== undefined && { messageId }),
    ...(paymentInformationId !== undefined && { paymentInformationId }),
    ...(count !== undefined && { numberOfTransactions: Number(count) }),
    ...(total !== undefined && { total }),
  };
}

type TextField = Exclude<keyof CamtTransaction, 'amount' | 'direction'>;

function transaction(tx: XmlElement): CamtTransaction {
  const refs = tx.optional('Refs');
  const parties = tx.optional('RltdPties');
  const returnReason = tx.optional('RtrInf');
  const amount = tx.has('Amt') ? amountOf(tx.required('Amt')) : undefined;
  const txDirection = optionalDirection(tx);
  const values: Record<TextField, string | undefined> = {
    endToEndId: refs?.optionalText('EndToEndId'),
    accountServicerReference: refs?.optionalText('AcctSvcrRef'),
    messageId: refs?.optionalText('MsgId'),
    paymentInformationId: refs?.optionalText('PmtInfId'),
    creditorName: partyName(parties?.optional('Cdtr')),
    creditorAccount: accountId(parties?.optional('CdtrAcct')),
    debtorName: partyName(parties?.optional('Dbtr')),
    debtorAccount: accountId(parties?.optional('DbtrAcct')),
    remittance: tx.optional('RmtInf')?.children('Ustrd').map((u) => u.text()).join(' ') || undefined,
    returnReasonCode: returnReason?.optional('Rsn')?.optionalText('Cd') ?? returnReason?.optional('Rsn')?.optionalText('Prtry'),
    returnReasonText: returnReason?.children('AddtlInf').map((line) => line.text()).join(' ') || undefined,
  };
  const defined = Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined)) as Partial<Record<TextField, string>>;
  return { ...defined, ...(amount !== undefined && { amount }), ...(txDirection !== undefined && { direction: txDirection }) };
}

/** Party40Choice (v08: Cdtr/Pty/Nm or Cdtr/Agt) or PartyIdentification (up to v04: Cdtr/Nm). */
function partyName(party: XmlElement | undefined): string | undefined {
  if (!party) return undefined;
  const pty = party.optional('Pty') ?? party;
  return pty.optionalText('Nm') ?? party.optional('Agt')?.optional('FinInstnId')?.optionalText('BICFI');
}

function accountId(account: XmlElement | undefined): string | undefined {
  const id = account?.optional('Id');
  return id?.optionalText('IBAN') ?? id?.optional('Othr')?.optionalText('Id');
}

const NOT_PROVIDED = 'NOTPROVIDED';

function endToEndIds(entry: CamtEntry): string[] {
  return entry.transactions.flatMap((tx) => (tx.endToEndId !== undefined && tx.endToEndId !== NOT_PROVIDED ? [tx.endToEndId] : []));
}

/**
 * The booked entries (status BOOK) of every report, as Kassa's statement entries. An entry for
 * several transactions (a batch booking) lists their EndToEndIds in batchRailKeys; an entry for one
 * transaction (a batch of one included) carries it as railKey, and as railReference the payment's
 * own AcctSvcrRef (the reference the bank's pain.002 gave it) when TxDtls has one.
 */
export function statementEntries(document: CamtDocument): RailStatementEntry[] {
  const entries: RailStatementEntry[] = [];
  for (const report of document.reports) {
    report.entries.forEach((e, index) => {
      if (e.status !== 'BOOK') return;
      const keys = endToEndIds(e);
      const single = e.transactions.length === 1 ? e.transactions[0] : undefined;
      // One transaction: the bank's reference of that payment (what its pain.002 gave); else the entry's.
      const railReference = single?.accountServicerReference ?? e.reference ?? `${report.id}/${index + 1}`;
      // The other party: the creditor of a debit (and of a reversed debit), the debtor of a credit.
      const creditorSide = (e.direction === 'debit') !== e.reversal;
      const counterparty = single && (creditorSide ? (single.creditorName ?? single.creditorAccount) : (single.debtorName ?? single.debtorAccount));
      const reasonCode = e.transactions.find((tx) => tx.returnReasonCode !== undefined)?.returnReasonCode;
      const bookingDate = e.bookingDate!;
      entries.push({
        railReference,
        amount: e.amount,
        direction: e.direction,
        bookingDate,
        valueDate: e.valueDate ?? bookingDate,
        reversal: e.reversal,
        ...(keys.length === 1 && { railKey: keys[0] }),
        ...(keys.length > 1 && { batchRailKeys: keys }),
        ...(counterparty !== undefined && counterparty !== NOT_PROVIDED && { counterparty }),
        ...(reasonCode !== undefined && { reasonCode }),
      });
    });
  }
  return entries;
}

/**
 * What a pushed camt.054 tells about Kassa's payments: a booked debit completes the transaction
 * (railReference = its TxDtls/Refs/AcctSvcrRef, the reference the bank's pain.002 gave it); a
 * booked reversal of a debit (a return) fails it with the return reason; a pending debit is
 * pending. Credits to the account and transactions without an EndToEndId are not about Kassa's
 * payments and are left out.
 */
export function notificationsFromCamt054(document: CamtDocument): RailNotification[] {
  const notifications: RailNotification[] = [];
  for (const report of document.reports) {
    for (const e of report.entries) {
      for (const tx of e.transactions) {
        const railKey = tx.endToEndId;
        if (railKey === undefined || railKey === NOT_PROVIDED) continue;
        const txDirection = tx.direction ?? e.direction;
        const reference = tx.accountServicerReference ?? (e.transactions.length === 1 ? e.reference : undefined);
        if (!e.reversal && txDirection === 'debit') {
          if (e.status === 'BOOK') notifications.push({ railKey, outcome: { status: 'completed', railReference: reference ?? railKey } });
          else if (e.status === 'PDNG') notifications.push({ railKey, outcome: reference === undefined ? { status: 'pending' } : { status: 'pending', railReference: reference } });
        } else if (e.reversal && txDirection === 'credit' && e.status === 'BOOK') {
          const reasonCode = tx.returnReasonCode ?? 'NARR';
          const reason = `returned by the creditor's bank: ${tx.returnReasonText ?? describeReason(reasonCode) ?? reasonCode}`;
          notifications.push({ railKey, outcome: reference === undefined ? { status: 'failed', reasonCode, reason } : { status: 'failed', reasonCode, reason, railReference: reference } });
        }
      }
    }
  }
  return notifications;
}
