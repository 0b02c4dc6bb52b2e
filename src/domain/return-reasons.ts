/** The ISO 20022 return reasons (ExternalReturnReason1Code) a bank most often gives when it sends a payment back. */
const RETURN_REASONS: Readonly<Record<string, string>> = Object.freeze({
  AC01: 'incorrect account number',
  AC03: 'invalid creditor account number',
  AC04: 'closed account',
  AC06: 'blocked account',
  AG01: 'transaction forbidden on this account',
  AM05: 'duplicate payment',
  BE04: 'missing creditor address',
  BE05: 'unrecognised initiating party',
  CUST: 'requested by the customer',
  FOCR: 'return following a cancellation request',
  MD07: 'end customer deceased',
  MS02: 'reason not specified by the creditor',
  MS03: 'reason not specified by the agent',
  NARR: 'see the narrative',
  RC01: 'invalid bank identifier',
  RR04: 'regulatory reason',
});

/** "closed account (AC04)", or the bare code when it is not a common one. */
export function describeReturnReason(code: string): string {
  const text = RETURN_REASONS[code];
  return text ? `${text} (${code})` : code;
}
