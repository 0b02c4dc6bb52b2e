import type { Money } from '../../src/domain/money.ts';
import { controlSum, formatAmount, formatMt940Amount } from './amounts.ts';
import { PAIN001_MESSAGE_NAME } from './pain001.ts';
import { amountElement, cleanText, element, isoDateTime, textElement, XML_DECLARATION } from './xml.ts';

/**
 * What the simulated bank writes: pain.002.001.11 status reports, camt.053.001.08 statements,
 * camt.054.001.08 notifications and MT940 statements, all from the same booking model so they
 * agree with each other. Only the simulator uses this file; Kassa reads these messages with
 * ./pain002.ts, ./camt.ts and ./mt940.ts.
 */

export const PAIN002_NAMESPACE = 'urn:iso:std:iso:20022:tech:xsd:pain.002.001.11';
export const CAMT053_NAMESPACE = 'urn:iso:std:iso:20022:tech:xsd:camt.053.001.08';
export const CAMT054_NAMESPACE = 'urn:iso:std:iso:20022:tech:xsd:camt.054.001.08';

// ---- pain.002 ----

export interface StatusLine {
  readonly endToEndId: string;
  /** ACSC, PDNG, RJCT… */
  readonly status: string;
  readonly reasonCode?: string;
  readonly reasonText?: string;
  readonly accountServicerReference?: string;
  /** Counted into NbOfTxsPerSts/DtldCtrlSum. */
  readonly amount?: Money;
}

export interface Pain002Input {
  readonly messageId: string;
  readonly createdAt: Date;
  readonly bankBic: string;
  readonly originalMessageId: string;
  readonly originalMessageName?: string;
  readonly originalCreatedAt?: string;
  readonly originalNumberOfTransactions?: number;
  readonly originalControlSum?: string;
  /** Default: the transactions' common status, else PART. */
  readonly groupStatus?: string;
  readonly groupReasonCode?: string;
  readonly groupReasonText?: string;
  readonly paymentInformationId?: string;
  readonly transactions: readonly StatusLine[];
}

export function buildPain002(input: Pain002Input): string {
  const statuses = new Set(input.transactions.map((tx) => tx.status));
  const groupStatus = input.groupStatus ?? (statuses.size === 1 ? [...statuses][0] : statuses.size > 1 ? 'PART' : undefined);
  const perStatus = [...statuses].map((status) => {
    const lines = input.transactions.filter((tx) => tx.status === status);
    const amounts = lines.flatMap((tx) => (tx.amount ? [tx.amount] : []));
    return (
      '<NbOfTxsPerSts>' +
      element('DtldNbOfTxs', String(lines.length)) +
      element('DtldSts', status) +
      (amounts.length === lines.length && amounts.length > 0 ? element('DtldCtrlSum', controlSum(amounts)) : '') +
      '</NbOfTxsPerSts>'
    );
  });
  const transactions = input.transactions.map(
    (tx) =>
      '<TxInfAndSts>' +
      element('OrgnlEndToEndId', tx.endToEndId) +
      element('TxSts', tx.status) +
      statusReason(tx.reasonCode, tx.reasonText) +
      (tx.accountServicerReference ? element('AcctSvcrRef', tx.accountServicerReference) : '') +
      '</TxInfAndSts>\n',
  );
  return (
    XML_DECLARATION +
    `<Document xmlns="${PAIN002_NAMESPACE}"><CstmrPmtStsRpt>` +
    '<GrpHdr>' +
    element('MsgId', input.messageId) +
    element('CreDtTm', isoDateTime(input.createdAt)) +
    `<DbtrAgt><FinInstnId>${element('BICFI', input.bankBic)}</FinInstnId></DbtrAgt>` +
    '</GrpHdr>\n' +
    '<OrgnlGrpInfAndSts>' +
    element('OrgnlMsgId', input.originalMessageId) +
    element('OrgnlMsgNmId', input.originalMessageName ?? PAIN001_MESSAGE_NAME) +
    (input.originalCreatedAt ? element('OrgnlCreDtTm', input.originalCreatedAt) : '') +
    (input.originalNumberOfTransactions !== undefined ? element('OrgnlNbOfTxs', String(input.originalNumberOfTransactions)) : '') +
    (input.originalControlSum !== undefined ? element('OrgnlCtrlSum', input.originalControlSum) : '') +
    (groupStatus ? element('GrpSts', groupStatus) : '') +
    statusReason(input.groupReasonCode, input.groupReasonText) +
    perStatus.join('') +
    '</OrgnlGrpInfAndSts>\n' +
    (input.transactions.length > 0
      ? `<OrgnlPmtInfAndSts>${element('OrgnlPmtInfId', input.paymentInformationId ?? input.originalMessageId)}\n${transactions.join('')}</OrgnlPmtInfAndSts>`
      : '') +
    '</CstmrPmtStsRpt></Document>\n'
  );
}

function statusReason(code: string | undefined, text: string | undefined): string {
  if (code === undefined && text === undefined) return '';
  const lines = text === undefined ? [] : splitText(text, 105).slice(0, 10);
  return `<StsRsnInf>${code ? `<Rsn>${element('Cd', code)}</Rsn>` : ''}${lines.map((line) => element('AddtlInf', line)).join('')}</StsRsnInf>`;
}

/** Cuts text into pieces of at most `size` characters (for repeated Max105Text elements). */
function splitText(text: string, size: number): string[] {
  const characters = Array.from(cleanText(text, 10_000));
  const pieces: string[] = [];
  for (let i = 0; i < characters.length; i += size) {
    const piece = characters.slice(i, i + size).join('').trim();
    if (piece) pieces.push(piece);
  }
  return pieces;
}

// ---- camt.053 / camt.054 ----

export interface BankAccountId {
  readonly iban?: string;
  readonly other?: string;
}

export interface BookedTransaction {
  readonly endToEndId: string;
  /** The bank's reference of the payment (the AcctSvcrRef its pain.002 gave). */
  readonly accountServicerReference: string;
  readonly messageId?: string;
  readonly paymentInformationId?: string;
  readonly amount: Money;
  readonly creditorName?: string;
  readonly creditorAccount: BankAccountId;
  readonly creditorAgentBic?: string;
  readonly remittance?: string;
  readonly returnReasonCode?: string;
  readonly returnReasonText?: string;
}

export interface BookedEntry {
  /** Entry reference (AcctSvcrRef of the Ntry), at most 16 characters so MT940 can carry it. */
  readonly reference: string;
  readonly bookingDate: string;
  readonly valueDate: string;
  readonly direction: 'credit' | 'debit';
  readonly reversal: boolean;
  readonly amount: Money;
  readonly status: 'BOOK' | 'PDNG';
  /** DMCT for a credit transfer, RRTN for a return. */
  readonly subFamily: 'DMCT' | 'RRTN';
  /** A batch booking of a pain.001's PmtInf. */
  readonly batch?: { readonly messageId: string; readonly paymentInformationId: string };
  readonly transactions: readonly BookedTransaction[];
}

export interface AccountReport {
  /** Stmt/Ntfctn Id; at most 16 characters so MT940's :20: can carry it. */
  readonly id: string;
  readonly sequenceNumber: number;
  readonly iban: string;
  readonly currency: string;
  readonly ownerName: string;
  readonly bankBic: string;
  readonly createdAt: Date;
  readonly from: Date;
  readonly to: Date;
  /** Signed minor units (negative = overdrawn); camt.053 and MT940 only. */
  readonly openingBalance?: { readonly minor: bigint; readonly date: string };
  readonly closingBalance?: { readonly minor: bigint; readonly date: string };
  readonly entries: readonly BookedEntry[];
}

export interface CamtInput {
  readonly messageId: string;
  readonly createdAt: Date;
  readonly reports: readonly AccountReport[];
}

export function buildCamt053(input: CamtInput): string {
  return camt(CAMT053_NAMESPACE, 'BkToCstmrStmt', 'Stmt', input);
}

export function buildCamt054(input: CamtInput): string {
  return camt(CAMT054_NAMESPACE, 'BkToCstmrDbtCdtNtfctn', 'Ntfctn', input);
}

function camt(namespace: string, root: string, reportName: 'Stmt' | 'Ntfctn', input: CamtInput): string {
  if (input.reports.length === 0) throw new Error(`${root}: at least one ${reportName} is required`);
  const reports = input.reports.map((report) => {
    const balances = reportName === 'Stmt' ? balance('OPBD', report, report.openingBalance) + balance('CLBD', report, report.closingBalance) : '';
    return (
      `<${reportName}>` +
      element('Id', report.id) +
      element('ElctrncSeqNb', String(report.sequenceNumber)) +
      element('CreDtTm', isoDateTime(report.createdAt)) +
      `<FrToDt>${element('FrDtTm', isoDateTime(report.from))}${element('ToDtTm', isoDateTime(report.to))}</FrToDt>` +
      '<Acct>' +
      `<Id>${element('IBAN', report.iban)}</Id>` +
      element('Ccy', report.currency) +
      `<Ownr>${textElement('Nm', report.ownerName, 140)}</Ownr>` +
      `<Svcr><FinInstnId>${element('BICFI', report.bankBic)}</FinInstnId></Svcr>` +
      '</Acct>\n' +
      balances +
      summary(report.entries, report.currency) +
      report.entries.map(entry).join('') +
      `</${reportName}>\n`
    );
  });
  return (
    XML_DECLARATION +
    `<Document xmlns="${namespace}"><${root}>` +
    `<GrpHdr>${element('MsgId', input.messageId)}${element('CreDtTm', isoDateTime(input.createdAt))}</GrpHdr>\n` +
    reports.join('') +
    `</${root}></Document>\n`
  );
}

function balance(type: 'OPBD' | 'CLBD', report: AccountReport, value: AccountReport['openingBalance']): string {
  if (!value) throw new Error(`camt.053 ${report.id}: the ${type} balance is required`);
  const amount = { minor: value.minor < 0n ? -value.minor : value.minor, currency: report.currency };
  return (
    `<Bal><Tp><CdOrPrtry>${element('Cd', type)}</CdOrPrtry></Tp>` +
    amountElement('Amt', formatAmount(amount), report.currency) +
    element('CdtDbtInd', value.minor < 0n ? 'DBIT' : 'CRDT') +
    `<Dt>${element('Dt', value.date)}</Dt></Bal>\n`
  );
}

function summary(entries: readonly BookedEntry[], currency: string): string {
  const credits = entries.filter((e) => e.direction === 'credit');
  const debits = entries.filter((e) => e.direction === 'debit');
  const sum = (list: readonly BookedEntry[]) => list.reduce((total, e) => total + e.amount.minor, 0n);
  const net = sum(credits) - sum(debits);
  const money = (minor: bigint) => formatAmount({ minor, currency });
  return (
    '<TxsSummry>' +
    `<TtlNtries>${element('NbOfNtries', String(entries.length))}${element('Sum', money(sum(entries)))}` +
    `<TtlNetNtry>${element('Amt', money(net < 0n ? -net : net))}${element('CdtDbtInd', net < 0n ? 'DBIT' : 'CRDT')}</TtlNetNtry></TtlNtries>` +
    `<TtlCdtNtries>${element('NbOfNtries', String(credits.length))}${element('Sum', money(sum(credits)))}</TtlCdtNtries>` +
    `<TtlDbtNtries>${element('NbOfNtries', String(debits.length))}${element('Sum', money(sum(debits)))}</TtlDbtNtries>` +
    '</TxsSummry>\n'
  );
}

const CDT_DBT = { credit: 'CRDT', debit: 'DBIT' } as const;

function entry(e: BookedEntry): string {
  const batch = e.batch
    ? '<Btch>' +
      element('MsgId', e.batch.messageId) +
      element('PmtInfId', e.batch.paymentInformationId) +
      element('NbOfTxs', String(e.transactions.length)) +
      amountElement('TtlAmt', formatAmount(e.amount), e.amount.currency) +
      element('CdtDbtInd', CDT_DBT[e.direction]) +
      '</Btch>\n'
    : '';
  return (
    '<Ntry>' +
    amountElement('Amt', formatAmount(e.amount), e.amount.currency) +
    element('CdtDbtInd', CDT_DBT[e.direction]) +
    (e.reversal ? '<RvslInd>true</RvslInd>' : '') +
    `<Sts>${element('Cd', e.status)}</Sts>` +
    `<BookgDt>${element('Dt', e.bookingDate)}</BookgDt>` +
    `<ValDt>${element('Dt', e.valueDate)}</ValDt>` +
    element('AcctSvcrRef', e.reference) +
    `<BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>ICDT</Cd>${element('SubFmlyCd', e.subFamily)}</Fmly></Domn></BkTxCd>\n` +
    `<NtryDtls>${batch}${e.transactions.map((tx) => transactionDetails(tx, e)).join('')}</NtryDtls>` +
    '</Ntry>\n'
  );
}

function transactionDetails(tx: BookedTransaction, e: BookedEntry): string {
  // In a batch, MsgId and PmtInfId are the Btch's; the debtor is the account holder: neither is repeated per transaction.
  const refs =
    '<Refs>' +
    (tx.messageId && !e.batch ? element('MsgId', tx.messageId) : '') +
    element('AcctSvcrRef', tx.accountServicerReference) +
    (tx.paymentInformationId && !e.batch ? element('PmtInfId', tx.paymentInformationId) : '') +
    element('EndToEndId', tx.endToEndId) +
    '</Refs>';
  const parties =
    '<RltdPties>' +
    (tx.creditorName ? `<Cdtr><Pty>${textElement('Nm', tx.creditorName, 140)}</Pty></Cdtr>` : '') +
    `<CdtrAcct>${account(tx.creditorAccount)}</CdtrAcct>` +
    '</RltdPties>';
  const agents = tx.creditorAgentBic ? `<RltdAgts><CdtrAgt><FinInstnId>${element('BICFI', tx.creditorAgentBic)}</FinInstnId></CdtrAgt></RltdAgts>` : '';
  const remittance = tx.remittance && cleanText(tx.remittance, 140) ? `<RmtInf>${textElement('Ustrd', tx.remittance, 140)}</RmtInf>` : '';
  const returned =
    tx.returnReasonCode !== undefined
      ? `<RtrInf><Rsn>${element('Cd', tx.returnReasonCode)}</Rsn>${tx.returnReasonText ? textElement('AddtlInf', tx.returnReasonText, 105) : ''}</RtrInf>`
      : '';
  return (
    '<TxDtls>' +
    refs +
    amountElement('Amt', formatAmount(tx.amount), tx.amount.currency) +
    element('CdtDbtInd', CDT_DBT[e.direction]) +
    parties +
    agents +
    remittance +
    returned +
    '</TxDtls>\n'
  );
}

function account(id: BankAccountId): string {
  if (id.iban) return `<Id>${element('IBAN', id.iban)}</Id>`;
  return `<Id><Othr>${element('Id', id.other ?? 'UNKNOWN')}</Othr></Id>`;
}

// ---- MT940 ----

/** One MT940 message per account report (camt.053 Stmt), lines of at most 65 characters, SWIFT character set. */
export function buildMt940(reports: readonly AccountReport[]): string {
  return reports.map(mt940Message).join('');
}

function mt940Message(report: AccountReport): string {
  const opening = report.openingBalance;
  const closing = report.closingBalance;
  if (!opening || !closing) throw new Error(`MT940 ${report.id}: opening and closing balances are required`);
  const lines = [
    `:20:${report.id.slice(0, 16)}`,
    `:25:${report.iban}`,
    `:28C:${String(report.sequenceNumber).padStart(5, '0').slice(-5)}/001`,
    `:60F:${mt940Balance(opening, report.currency)}`,
  ];
  for (const e of report.entries) {
    const mark = e.reversal ? (e.direction === 'credit' ? 'RD' : 'RC') : e.direction === 'credit' ? 'C' : 'D';
    const customerReference = e.batch ? e.batch.paymentInformationId.slice(0, 16) : 'NONREF';
    const type = e.subFamily === 'RRTN' ? 'NRTI' : 'NTRF';
    // The bank reference: the payment's own reference for an entry of one payment, else the entry's.
    const bankReference = (e.transactions.length === 1 ? e.transactions[0]!.accountServicerReference : e.reference).slice(0, 16);
    lines.push(`:61:${yymmdd(e.valueDate)}${e.bookingDate.slice(5, 7)}${e.bookingDate.slice(8, 10)}${mark}${formatMt940Amount(e.amount)}${type}${customerReference}//${bankReference}`);
    lines.push(...information(e).map((line, i) => (i === 0 ? `:86:${line}` : line)));
  }
  lines.push(`:62F:${mt940Balance(closing, report.currency)}`, '-');
  return `${lines.join('\r\n')}\r\n`;
}

function mt940Balance(balance: { minor: bigint; date: string }, currency: string): string {
  const amount = { minor: balance.minor < 0n ? -balance.minor : balance.minor, currency };
  return `${balance.minor < 0n ? 'D' : 'C'}${yymmdd(balance.date)}${currency}${formatMt940Amount(amount)}`;
}

/**
 * :86: as structured codes, wrapped to 6 lines of 65: /EREF/ /NAME/ /IBAN/ /RTRN/ /REMI/ for an entry
 * of one transaction, /PREF/ /NBTX/ for a batch (MT940 has no room for a batch's end-to-end ids).
 */
function information(e: BookedEntry): string[] {
  let text: string;
  const single = e.transactions.length === 1 ? e.transactions[0] : undefined;
  if (single) {
    const account = single.creditorAccount.iban ?? single.creditorAccount.other;
    text =
      `/EREF/${single.endToEndId}` +
      (single.creditorName ? `/NAME/${swift(single.creditorName)}` : '') +
      (account ? `/IBAN/${account}` : '') +
      (single.returnReasonCode ? `/RTRN/${single.returnReasonCode}` : '') +
      (single.remittance ? `/REMI/${swift(single.remittance)}` : '');
  } else {
    text = `/PREF/${e.batch?.paymentInformationId ?? e.reference}/NBTX/${e.transactions.length}`;
  }
  const lines: string[] = [];
  for (let i = 0; i < text.length && lines.length < 6; i += 65) lines.push(text.slice(i, i + 65));
  return lines;
}

function yymmdd(isoDate: string): string {
  return `${isoDate.slice(2, 4)}${isoDate.slice(5, 7)}${isoDate.slice(8, 10)}`;
}

const TRANSLITERATION: Readonly<Record<string, string>> = { Ø: 'O', ø: 'o', Æ: 'AE', æ: 'ae', ß: 'ss', Ł: 'L', ł: 'l', Đ: 'D', đ: 'd', Œ: 'OE', œ: 'oe', Þ: 'TH', þ: 'th' };

/** The SWIFT X character set: letters without accents, digits, / - ? : ( ) . , ' + and space. */
function swift(text: string): string {
  return text
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[ØøÆæßŁłĐđŒœÞþ]/g, (c) => TRANSLITERATION[c]!)
    .replace(/[^A-Za-z0-9/\-?:().,'+ ]/g, '.');
}
