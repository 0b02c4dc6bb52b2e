import type { Money } from '../../src/domain/money.ts';
import { minorUnitsOf } from '../../src/domain/money.ts';
import { partyValueProblem } from '../../src/domain/party.ts';
import type { RailPayment } from '../contract.ts';
import { controlSum, decimalsEqual, formatAmount, parseDecimal } from './amounts.ts';
import {
  amountElement,
  amountOf,
  cleanText,
  element,
  isoDate,
  isoDateTime,
  isValidIsoDate,
  readDocument,
  textElement,
  XML_DECLARATION,
  type XmlElement,
} from './xml.ts';

/**
 * pain.001.001.09 CustomerCreditTransferInitiation: one message per chunk, one PmtInf (Kassa's
 * account as debtor, batch booking requested), one CdtTrfTxInf per payment with EndToEndId = the
 * payment's rail key. Also read back (parsePain001) by the bank simulator and the tests.
 *
 * Profile: a chunk of IBAN payees with amounts of at most two decimals up to 999,999,999.99 yields
 * a message inside the EPC SEPA Credit Transfer profile of pain.001.001.09 (the schema in
 * shared/iso20022): names cut to 70 characters, the creditor agent only as a BIC (another
 * institution identifier is left out: the IBAN names the bank). Beyond that profile the message uses
 * plain ISO 20022 pain.001.001.09: a `bank_account` payee as CdtrAcct/Id/Othr/Id, its non-BIC
 * institution as CdtrAgt/FinInstnId/Othr/Id, three-decimal currencies and larger amounts.
 */

export const PAIN001_NAMESPACE = 'urn:iso:std:iso:20022:tech:xsd:pain.001.001.09';
export const PAIN001_MESSAGE_NAME = 'pain.001.001.09';

/** BICFIDec2014Identifier. */
export const BIC_PATTERN = /^[A-Z0-9]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?$/;

/**
 * The creditor name when Kassa has none (RailPayment carries only the account): the placeholder
 * EPC and most banks accept for "not provided".
 */
export const CREDITOR_NAME_NOT_PROVIDED = 'NOTPROVIDED';

/** Party names: Max140Text in ISO 20022, 70 characters in the EPC profile. */
export const NAME_MAX_LENGTH = 70;

export interface Pain001Debtor {
  readonly name: string;
  readonly iban: string;
  readonly bic: string;
}

export interface Pain001Input {
  /** GrpHdr/MsgId, also used as PmtInf/PmtInfId: at most 35 characters (16 keep it usable in MT940). */
  readonly messageId: string;
  readonly createdAt: Date;
  /** ReqdExctnDt/Dt, YYYY-MM-DD; default the UTC date of createdAt. */
  readonly executionDate?: string;
  readonly initiatingPartyName: string;
  readonly debtor: Pain001Debtor;
  readonly payments: readonly RailPayment[];
}

export interface BuiltPain001 {
  readonly xml: string;
  readonly messageId: string;
  readonly paymentInformationId: string;
  readonly numberOfTransactions: number;
  readonly controlSum: string;
}

/** Why a payment cannot travel in a pain.001 to the bank, as the ISO reason the bank would give; undefined when it can. */
export function creditTransferProblem(payment: RailPayment): { readonly reasonCode: string; readonly reason: string } | undefined {
  if (payment.kind !== 'benefit') return { reasonCode: 'AG03', reason: `a bank credit transfer pays out; a ${payment.kind} cannot be collected on this rail` };
  const payee = payment.payee;
  if (payee.type !== 'iban' && payee.type !== 'bank_account') {
    return { reasonCode: 'AC03', reason: `the payee is a ${payee.type}, not a bank account (iban or bank_account)` };
  }
  const accountProblem = partyValueProblem(payee.type, payee.value);
  if (accountProblem) return { reasonCode: 'AC01', reason: `payee ${payee.type} ${accountProblem}` };
  if (payee.institution !== undefined && cleanText(payee.institution, 35) === '') {
    return { reasonCode: 'RC01', reason: 'the payee institution is empty' };
  }
  const { currency, minor } = payment.amount;
  if (!/^[A-Z]{3}$/.test(currency) || minorUnitsOf(currency) === undefined) {
    return { reasonCode: 'AM03', reason: `"${currency}" is not a currency a bank can transfer` };
  }
  if (minor <= 0n) return { reasonCode: 'AM12', reason: 'the amount must be greater than zero' };
  if (formatAmount(payment.amount).replace('.', '').replace(/^0+/, '').length > 18) {
    return { reasonCode: 'AM02', reason: 'the amount has more than 18 digits' };
  }
  return undefined;
}

/** EndToEndId is Max35Text; the contract promises rail keys fit it. */
export function railKeyProblem(railKey: string): string | undefined {
  if (railKey.length === 0 || railKey.length > 35) return `rail key "${railKey}" must be 1 to 35 characters to fit EndToEndId`;
  if (cleanText(railKey, 35) !== railKey) return `rail key "${railKey}" has surrounding space or characters XML cannot carry`;
  return undefined;
}

export function buildPain001(input: Pain001Input): BuiltPain001 {
  const { messageId, debtor, payments } = input;
  if (payments.length === 0) throw new Error('pain.001: a message needs at least one payment');
  if (cleanText(messageId, 35) !== messageId || messageId === '') throw new Error(`pain.001: message id "${messageId}" is not a Max35Text`);
  for (const payment of payments) {
    const problem = railKeyProblem(payment.railKey) ?? creditTransferProblem(payment)?.reason;
    if (problem) throw new Error(`pain.001: payment ${payment.railKey}: ${problem}`);
  }
  const sum = controlSum(payments.map((p) => p.amount));
  const count = String(payments.length);
  const transactions = payments.map(creditTransfer).join('');
  const xml =
    XML_DECLARATION +
    `<Document xmlns="${PAIN001_NAMESPACE}"><CstmrCdtTrfInitn>` +
    '<GrpHdr>' +
    element('MsgId', messageId) +
    element('CreDtTm', isoDateTime(input.createdAt)) +
    element('NbOfTxs', count) +
    element('CtrlSum', sum) +
    `<InitgPty>${textElement('Nm', input.initiatingPartyName, NAME_MAX_LENGTH)}</InitgPty>` +
    '</GrpHdr>\n' +
    '<PmtInf>' +
    element('PmtInfId', messageId) +
    '<PmtMtd>TRF</PmtMtd><BtchBookg>true</BtchBookg>' +
    element('NbOfTxs', count) +
    element('CtrlSum', sum) +
    `<ReqdExctnDt>${element('Dt', input.executionDate ?? isoDate(input.createdAt))}</ReqdExctnDt>` +
    `<Dbtr>${textElement('Nm', debtor.name, NAME_MAX_LENGTH)}</Dbtr>` +
    `<DbtrAcct><Id>${element('IBAN', debtor.iban)}</Id></DbtrAcct>` +
    `<DbtrAgt><FinInstnId>${element('BICFI', debtor.bic)}</FinInstnId></DbtrAgt>\n` +
    transactions +
    '</PmtInf></CstmrCdtTrfInitn></Document>\n';
  return { xml, messageId, paymentInformationId: messageId, numberOfTransactions: payments.length, controlSum: sum };
}

function creditTransfer(payment: RailPayment): string {
  const payee = payment.payee;
  const account = payee.type === 'iban' ? element('IBAN', payee.value) : `<Othr>${element('Id', payee.value)}</Othr>`;
  return (
    '<CdtTrfTxInf>' +
    `<PmtId>${element('EndToEndId', payment.railKey)}</PmtId>` +
    `<Amt>${amountElement('InstdAmt', formatAmount(payment.amount), payment.amount.currency)}</Amt>` +
    creditorAgent(payee.institution, payee.type === 'bank_account') +
    `<Cdtr>${element('Nm', CREDITOR_NAME_NOT_PROVIDED)}</Cdtr>` +
    `<CdtrAcct><Id>${account}</Id></CdtrAcct>` +
    (cleanText(payment.reference, 140) === '' ? '' : `<RmtInf>${textElement('Ustrd', payment.reference, 140)}</RmtInf>`) +
    '</CdtTrfTxInf>\n'
  );
}

/**
 * A BIC as BICFI. Another institution identifier (a national bank code) goes in Othr/Id for a
 * bank_account payee, whose account number alone does not name the bank; an IBAN names its bank, so
 * for an IBAN payee it is left out (the EPC profile allows only a BIC there).
 */
function creditorAgent(institution: string | undefined, accountNeedsBank: boolean): string {
  if (institution === undefined) return '';
  const bic = institution.trim().toUpperCase();
  if (BIC_PATTERN.test(bic)) return `<CdtrAgt><FinInstnId>${element('BICFI', bic)}</FinInstnId></CdtrAgt>`;
  if (!accountNeedsBank) return '';
  return `<CdtrAgt><FinInstnId><Othr>${textElement('Id', institution, 35)}</Othr></FinInstnId></CdtrAgt>`;
}

// ---- reading (the bank's side) ----

export interface Pain001Account {
  readonly iban?: string;
  readonly other?: string;
}

export interface Pain001Transaction {
  readonly endToEndId: string;
  readonly instructionId?: string;
  readonly amount: Money;
  readonly creditorName?: string;
  readonly creditorAccount: Pain001Account;
  readonly creditorAgentBic?: string;
  readonly creditorAgentOther?: string;
  readonly remittance?: string;
}

export interface Pain001PaymentInformation {
  readonly id: string;
  readonly batchBooking: boolean;
  readonly executionDate: string;
  readonly debtorName?: string;
  readonly debtorAccount: Pain001Account;
  readonly debtorAgentBic?: string;
  readonly transactions: readonly Pain001Transaction[];
}

export interface Pain001Message {
  readonly messageId: string;
  readonly createdAt: string;
  readonly numberOfTransactions: number;
  readonly controlSum: string;
  readonly initiatingPartyName?: string;
  readonly paymentInformation: readonly Pain001PaymentInformation[];
}

export interface Pain001Limits {
  /** Most transactions accepted in one message; more is rejected (AM18). Default 10,000. */
  readonly maxTransactions?: number;
}

/**
 * Reads and checks a pain.001 as a bank would: structure, counts and control sums (group and
 * PmtInf), amounts, accounts, unique EndToEndIds. Throws Iso20022FormatError naming the element and
 * carrying the ISO reason code (FF01, AM18 count, AM10 control sum, DU04 duplicate EndToEndId…).
 */
export function parsePain001(xml: string | Buffer, limits: Pain001Limits = {}): Pain001Message {
  const root = readDocument(xml, { what: 'pain.001', namespace: /^urn:iso:std:iso:20022:tech:xsd:pain\.001\.001\.09$/, root: 'CstmrCdtTrfInitn' });
  const header = root.required('GrpHdr');
  const messageId = max35(header, 'MsgId');
  const createdAt = header.requiredText('CreDtTm');
  if (Number.isNaN(Date.parse(createdAt))) throw header.required('CreDtTm').error(`"${createdAt}" is not an ISO date-time`);
  const declaredCount = count(header, 'NbOfTxs');
  const declaredSum = decimal(header, 'CtrlSum');
  const initiatingPartyName = header.required('InitgPty').optionalText('Nm');

  const paymentInformation: Pain001PaymentInformation[] = [];
  const endToEndIds = new Set<string>();
  const allAmounts: Money[] = [];
  let total = 0;
  for (const info of root.children('PmtInf')) {
    const id = max35(info, 'PmtInfId');
    const method = info.requiredText('PmtMtd');
    if (method !== 'TRF') throw info.required('PmtMtd').error(`"${method}" is not TRF`);
    const batchBooking = (info.optionalText('BtchBookg') ?? 'true') === 'true';
    const infoCount = count(info, 'NbOfTxs');
    const infoSum = decimal(info, 'CtrlSum');
    const executionDate = info.required('ReqdExctnDt').requiredText('Dt');
    if (!isValidIsoDate(executionDate)) throw info.required('ReqdExctnDt').required('Dt').error(`"${executionDate}" is not a date`, 'DT01');
    const debtorName = info.required('Dbtr').optionalText('Nm');
    const debtorAccount = account(info.required('DbtrAcct'));
    if (!debtorAccount.iban) throw info.required('DbtrAcct').error('the debtor account must be an IBAN', 'RR01');
    const debtorAgentBic = info.required('DbtrAgt').required('FinInstnId').optionalText('BICFI');

    const transactions: Pain001Transaction[] = [];
    const infoAmounts: Money[] = [];
    for (const tx of info.children('CdtTrfTxInf')) {
      const endToEndId = max35(tx.required('PmtId'), 'EndToEndId');
      if (endToEndIds.has(endToEndId)) throw tx.required('PmtId').error(`EndToEndId "${endToEndId}" occurs twice in the message`, 'DU04');
      endToEndIds.add(endToEndId);
      const amountElement = tx.required('Amt').required('InstdAmt');
      const amount = amountOf(amountElement);
      if (amount.minor <= 0n) throw amountElement.error('must be greater than zero', 'AM12');
      const creditorAgent = tx.optional('CdtrAgt')?.required('FinInstnId');
      const remittance = tx.optional('RmtInf')?.optionalText('Ustrd');
      const instructionId = tx.required('PmtId').optionalText('InstrId');
      const creditorName = tx.required('Cdtr').optionalText('Nm');
      const creditorAgentBic = creditorAgent?.optionalText('BICFI');
      const creditorAgentOther = creditorAgent?.optional('Othr')?.optionalText('Id');
      transactions.push({
        endToEndId,
        amount,
        creditorAccount: account(tx.required('CdtrAcct')),
        ...(instructionId !== undefined && { instructionId }),
        ...(creditorName !== undefined && { creditorName }),
        ...(creditorAgentBic !== undefined && { creditorAgentBic }),
        ...(creditorAgentOther !== undefined && { creditorAgentOther }),
        ...(remittance !== undefined && { remittance }),
      });
      infoAmounts.push(amount);
    }
    if (transactions.length === 0) throw info.error('has no <CdtTrfTxInf>');
    if (infoCount !== transactions.length) {
      throw info.required('NbOfTxs').error(`declares ${infoCount} transactions, the PmtInf holds ${transactions.length}`, 'AM18');
    }
    checkSum(infoSum, infoAmounts);
    paymentInformation.push({
      id,
      batchBooking,
      executionDate,
      debtorAccount,
      transactions,
      ...(debtorName !== undefined && { debtorName }),
      ...(debtorAgentBic !== undefined && { debtorAgentBic }),
    });
    allAmounts.push(...infoAmounts);
    total += transactions.length;
  }
  if (paymentInformation.length === 0) throw root.error('has no <PmtInf>');
  if (declaredCount !== total) throw header.required('NbOfTxs').error(`declares ${declaredCount} transactions, the message holds ${total}`, 'AM18');
  const maxTransactions = limits.maxTransactions ?? 10_000;
  if (total > maxTransactions) throw header.required('NbOfTxs').error(`${total} transactions exceed the bank's limit of ${maxTransactions} per message`, 'AM18');
  checkSum(declaredSum, allAmounts);
  return {
    messageId,
    createdAt,
    numberOfTransactions: total,
    controlSum: header.requiredText('CtrlSum'),
    paymentInformation,
    ...(initiatingPartyName !== undefined && { initiatingPartyName }),
  };
}

function max35(parent: XmlElement, name: string): string {
  const text = parent.requiredText(name);
  if (Array.from(text).length > 35) throw parent.required(name).error('is longer than 35 characters');
  return text;
}

function count(parent: XmlElement, name: string): number {
  const text = parent.requiredText(name);
  if (!/^\d{1,15}$/.test(text)) throw parent.required(name).error(`"${text}" is not a count`, 'AM18');
  return Number(text);
}

function decimal(parent: XmlElement, name: string) {
  const text = parent.requiredText(name);
  const value = parseDecimal(text);
  if (!value) throw parent.required(name).error(`"${text}" is not a decimal number`, 'AM10');
  return { element: parent.required(name), value };
}

function checkSum(declared: ReturnType<typeof decimal>, amounts: readonly Money[]): void {
  const actual = parseDecimal(controlSum(amounts))!;
  if (!decimalsEqual(declared.value, actual)) {
    throw declared.element.error(`is ${declared.element.text()}, the amounts add up to ${controlSum(amounts)}`, 'AM10');
  }
}

function account(parent: XmlElement): Pain001Account {
  const id = parent.required('Id');
  const iban = id.optionalText('IBAN');
  if (iban !== undefined) {
    if (!/^[A-Z]{2}[0-9]{2}[a-zA-Z0-9]{1,30}$/.test(iban)) throw id.required('IBAN').error(`"${iban}" is not an IBAN`, 'AC01');
    return { iban };
  }
  const other = id.optional('Othr')?.optionalText('Id');
  if (other !== undefined) return { other };
  throw id.error('has neither <IBAN> nor <Othr><Id>', 'AC01');
}
