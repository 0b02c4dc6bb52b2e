import type { RailNotification, RailOutcome } from '../contract.ts';
import { describeReason } from './reason-codes.ts';
import { readDocument, type XmlElement } from './xml.ts';

/**
 * pain.002 CustomerPaymentStatusReport (read for version .11, and any pain.002.001.xx with the same
 * shape): the group status and each transaction's status, mapped to Kassa's outcomes.
 *
 * | TxSts | outcome |
 * |---|---|
 * | ACSC, ACCC | completed (railReference = AcctSvcrRef, else ClrSysRef, else the EndToEndId) |
 * | ACCP, ACTC, ACSP, ACWC, ACWP, ACFC, ACIS, PATC, PART, PDNG, RCVD | pending |
 * | RJCT, CANC | failed, reasonCode = StsRsnInf/Rsn/Cd (or Prtry), reason = AddtlInf or the code's meaning |
 * | anything else | pending: Kassa keeps inquiring rather than guess |
 *
 * A transaction without TxSts takes its PmtInf's status, then the group status (a group RJCT
 * rejects every transaction it does not list).
 */

export const COMPLETED_STATUSES: ReadonlySet<string> = new Set(['ACSC', 'ACCC']);
export const FAILED_STATUSES: ReadonlySet<string> = new Set(['RJCT', 'CANC']);
export const PENDING_STATUSES: ReadonlySet<string> = new Set(['ACCP', 'ACTC', 'ACSP', 'ACWC', 'ACWP', 'ACFC', 'ACIS', 'PATC', 'PART', 'PDNG', 'RCVD']);

export interface StatusReason {
  /** Rsn/Cd, or Rsn/Prtry when the bank uses its own code. */
  readonly code?: string;
  readonly additionalInformation: readonly string[];
}

export interface Pain002Transaction {
  readonly endToEndId: string;
  /** TxSts, or the inherited PmtInf / group status. */
  readonly status?: string;
  readonly reasons: readonly StatusReason[];
  readonly accountServicerReference?: string;
  readonly clearingSystemReference?: string;
}

export interface Pain002Report {
  readonly messageId: string;
  readonly createdAt: string;
  readonly originalMessageId: string;
  readonly originalMessageName: string;
  readonly groupStatus?: string;
  readonly groupReasons: readonly StatusReason[];
  readonly transactions: readonly Pain002Transaction[];
}

export function parsePain002(xml: string | Buffer): Pain002Report {
  const root = readDocument(xml, { what: 'pain.002', namespace: /^urn:iso:std:iso:20022:tech:xsd:pain\.002\.001\.\d\d$/, root: 'CstmrPmtStsRpt' });
  const header = root.required('GrpHdr');
  const group = root.required('OrgnlGrpInfAndSts');
  const groupStatus = statusCode(group, 'GrpSts');
  const groupReasons = reasonsOf(group);
  const transactions: Pain002Transaction[] = [];
  for (const info of root.children('OrgnlPmtInfAndSts')) {
    const infoStatus = statusCode(info, 'PmtInfSts') ?? groupStatus;
    const infoReasons = info.has('StsRsnInf') ? reasonsOf(info) : groupReasons;
    for (const tx of info.children('TxInfAndSts')) {
      const endToEndId = tx.requiredText('OrgnlEndToEndId');
      const ownStatus = statusCode(tx, 'TxSts');
      const status = ownStatus ?? infoStatus;
      const reasons = tx.has('StsRsnInf') || ownStatus !== undefined ? reasonsOf(tx) : infoReasons;
      const accountServicerReference = tx.optionalText('AcctSvcrRef');
      const clearingSystemReference = tx.optionalText('ClrSysRef');
      transactions.push({
        endToEndId,
        reasons,
        ...(status !== undefined && { status }),
        ...(accountServicerReference !== undefined && { accountServicerReference }),
        ...(clearingSystemReference !== undefined && { clearingSystemReference }),
      });
    }
  }
  return {
    messageId: header.requiredText('MsgId'),
    createdAt: header.requiredText('CreDtTm'),
    originalMessageId: group.requiredText('OrgnlMsgId'),
    originalMessageName: group.requiredText('OrgnlMsgNmId'),
    groupReasons,
    transactions,
    ...(groupStatus !== undefined && { groupStatus }),
  };
}

function statusCode(parent: XmlElement, name: string): string | undefined {
  const status = parent.optionalText(name);
  if (status !== undefined && !/^[A-Z0-9]{1,4}$/.test(status)) throw parent.required(name).error(`"${status}" is not a status code`);
  return status;
}

function reasonsOf(parent: XmlElement): StatusReason[] {
  return parent.children('StsRsnInf').map((info) => {
    const reason = info.optional('Rsn');
    const code = reason?.optionalText('Cd') ?? reason?.optionalText('Prtry');
    const additionalInformation = info.children('AddtlInf').map((line) => line.text()).filter((line) => line !== '');
    return { additionalInformation, ...(code !== undefined && { code }) };
  });
}

/** The outcome a status means, or undefined when there is no status at all. */
export function outcomeOf(tx: Pain002Transaction): RailOutcome | undefined {
  const status = tx.status;
  if (status === undefined) return undefined;
  const reference = tx.accountServicerReference ?? tx.clearingSystemReference;
  if (COMPLETED_STATUSES.has(status)) return { status: 'completed', railReference: reference ?? tx.endToEndId };
  if (FAILED_STATUSES.has(status)) {
    const first = tx.reasons.find((r) => r.code !== undefined) ?? tx.reasons[0];
    const reasonCode = first?.code ?? (status === 'CANC' ? 'CANC' : 'NARR');
    const text = tx.reasons.flatMap((r) => r.additionalInformation).join(' ').trim();
    const reason = text || describeReason(reasonCode) || `rejected by the bank (${status} ${reasonCode})`;
    return reference === undefined ? { status: 'failed', reasonCode, reason } : { status: 'failed', reasonCode, reason, railReference: reference };
  }
  return reference === undefined ? { status: 'pending' } : { status: 'pending', railReference: reference };
}

/**
 * The outcome of each EndToEndId in `railKeys`: its own status, else the group's (a group status
 * applies to every transaction the report does not list). Keys with no status at all are absent.
 */
export function outcomesFor(report: Pain002Report, railKeys: readonly string[]): Map<string, RailOutcome> {
  const byKey = new Map<string, Pain002Transaction>();
  for (const tx of report.transactions) byKey.set(tx.endToEndId, tx);
  const outcomes = new Map<string, RailOutcome>();
  for (const railKey of railKeys) {
    const tx = byKey.get(railKey) ?? { endToEndId: railKey, reasons: report.groupReasons, ...(report.groupStatus !== undefined && { status: report.groupStatus }) };
    const outcome = outcomeOf(tx);
    if (outcome) outcomes.set(railKey, outcome);
  }
  return outcomes;
}

/** What a pushed pain.002 tells about each transaction it lists. */
export function notificationsFromPain002(report: Pain002Report): RailNotification[] {
  const notifications: RailNotification[] = [];
  for (const tx of report.transactions) {
    const outcome = outcomeOf(tx);
    if (outcome) notifications.push({ railKey: tx.endToEndId, outcome });
  }
  return notifications;
}
