/**
 * ISO 20022 ExternalStatusReason1Code / ExternalReturnReason1Code descriptions for the codes banks
 * commonly send with RJCT statuses and returns. Used when the bank gives a code without text.
 */
export const ISO_REASON_DESCRIPTIONS: Readonly<Record<string, string>> = Object.freeze({
  AC01: 'incorrect account number',
  AC03: 'invalid creditor account number',
  AC04: 'closed account',
  AC06: 'blocked account',
  AC13: 'invalid debtor account type',
  AG01: 'transaction forbidden on this account',
  AG03: 'transaction type not supported',
  AM01: 'zero amount',
  AM02: 'amount not allowed',
  AM03: 'currency not allowed',
  AM04: 'insufficient funds',
  AM05: 'duplicate payment',
  AM09: 'wrong amount',
  AM10: 'invalid control sum',
  AM12: 'invalid amount',
  AM18: 'invalid number of transactions',
  BE01: 'creditor name does not match the account',
  CNOR: 'creditor bank is not registered',
  CURR: 'incorrect currency',
  CUST: 'requested by the customer',
  DNOR: 'debtor bank is not registered',
  DS04: 'order rejected by the bank',
  DT01: 'invalid date',
  DU01: 'duplicate message identification',
  DU02: 'duplicate payment information identification',
  DU04: 'duplicate end-to-end identification',
  DU05: 'duplicate instruction identification',
  FF01: 'invalid file format',
  FOCR: 'return following a cancellation request',
  MD07: 'end customer deceased',
  MS02: 'reason not specified by the creditor',
  MS03: 'reason not specified by the agent',
  NARR: 'see the narrative',
  RC01: 'invalid bank identifier',
  RR01: 'missing debtor account or identification',
  RR03: 'missing creditor name or address',
  RR04: 'regulatory reason',
  TM01: 'received after the cut-off time',
});

export function describeReason(code: string): string | undefined {
  return Object.hasOwn(ISO_REASON_DESCRIPTIONS, code) ? ISO_REASON_DESCRIPTIONS[code] : undefined;
}
