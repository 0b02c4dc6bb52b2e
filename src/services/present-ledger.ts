import { formatMoney } from '../domain/money.ts';
import type { AccountBalance, Journal } from '../db/repositories/ledger.ts';

/** The public shapes of accounts and journals. Amounts are signed: a debit is positive, a credit negative. */
export function presentAccountBalance(balance: AccountBalance) {
  return {
    account: balance.code,
    kind: balance.kind,
    currency: balance.currency,
    balance: formatMoney({ minor: balance.balanceMinor, currency: balance.currency }),
    balance_minor: balance.balanceMinor.toString(),
  };
}

export function presentJournal(journal: Journal) {
  return {
    id: journal.id,
    kind: journal.kind,
    organisation_id: journal.organisationId,
    order_id: journal.orderId,
    batch_id: journal.batchId,
    program_id: journal.programId,
    reverses_journal_id: journal.reversesJournalId,
    booked_at: journal.bookedAt.toISOString(),
    postings: journal.postings.map((posting) => ({
      account: posting.account,
      account_kind: posting.accountKind,
      currency: posting.currency,
      amount: formatMoney({ minor: posting.amountMinor, currency: posting.currency }),
      amount_minor: posting.amountMinor.toString(),
    })),
  };
}
