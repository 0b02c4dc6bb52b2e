import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { accountCode, ORDER_MOVEMENTS } from '../../src/domain/ledger.ts';
import type { Money } from '../../src/domain/money.ts';
import { SEVERITY_OF, type ExceptionType } from '../../src/domain/reconciliation.ts';

/**
 * Rows dated at a moment of the test's choosing, for tests of what happened on another day than today.
 * Journals, postings and events are append-only (triggers refuse any UPDATE) and take their time from the
 * database clock when written, so these rows are written whole, with their moment, when they are inserted:
 * never by moving rows the pipeline wrote.
 */

export interface CompletionAt {
  readonly at: Date;
  readonly organisationId: string;
  readonly kind: 'fee' | 'benefit';
  readonly amount: Money;
  readonly rail: string;
  /** The payer's institution for a fee, the payee's for a benefit: it names the clearing account. */
  readonly institution: string;
}

/**
 * A payment outside any program completed at `at`, as the pipeline would have written it then: the order in
 * its final status, its completion event, and the journal of the completion with the postings
 * src/domain/ledger.ts gives it, all carrying that moment.
 */
export async function writeCompletionAt(db: Knex, completion: CompletionAt): Promise<{ orderId: string; railKey: string }> {
  const movement = ORDER_MOVEMENTS.find((candidate) => candidate.to === 'completed' && candidate.orderKind === completion.kind && !candidate.fromProgram)!;
  const postings = movement.legs
    .filter((leg) => leg.measure === 'amount')
    .map((leg) => ({ kind: leg.account.kind, code: accountCode(leg.account, completion), amount: BigInt(leg.sign) * completion.amount.minor }));
  const orderId = randomUUID();
  const railKey = `AT${orderId.replaceAll('-', '').slice(0, 20)}`;
  const journalId = randomUUID();
  const counterparty = { type: 'msisdn', value: '+254711000999', institution: completion.institution };
  const treasury = { type: 'iban', value: 'GB82WEST12345698765432' };
  const at = completion.at.toISOString();
  await db.transaction(async (trx) => {
    await trx('orders').insert({
      id: orderId, organisation_id: completion.organisationId, kind: completion.kind, status: 'completed', previous_status: 'submitted',
      amount_minor: completion.amount.minor.toString(), currency: completion.amount.currency,
      payer: completion.kind === 'fee' ? counterparty : treasury, payee: completion.kind === 'fee' ? treasury : counterparty,
      reference: `completed at ${at}`, rail: completion.rail, rail_key: railKey, created_at: at, updated_at: at,
    });
    await trx('ledger_accounts')
      .insert(postings.map((posting) => ({ organisation_id: completion.organisationId, currency: completion.amount.currency, code: posting.code, kind: posting.kind })))
      .onConflict(['organisation_id', 'currency', 'code']).ignore();
    await trx('ledger_journals').insert({ id: journalId, organisation_id: completion.organisationId, kind: movement.journal, order_id: orderId, booked_at: at, created_at: at });
    await trx('ledger_postings').insert(postings.map((posting) => ({
      journal_id: journalId, organisation_id: completion.organisationId, account: posting.code, currency: completion.amount.currency, amount_minor: posting.amount.toString(),
    })));
    await trx('order_events').insert({ order_id: orderId, from_status: 'submitted', to_status: 'completed', journal_id: journalId, created_at: at });
  });
  return { orderId, railKey };
}

/** A reconciliation exception opened at `at`, with the run that found it. */
export async function openExceptionAt(db: Knex, exception: { at: Date; organisationId: string | null; type: ExceptionType; amount: Money; source: string }): Promise<string> {
  const runId = randomUUID();
  const id = randomUUID();
  const at = exception.at.toISOString();
  await db.transaction(async (trx) => {
    await trx('reconciliation_runs').insert({
      id: runId, source: exception.source, trigger: 'import', status: 'completed', started_by: 'test', started_at: at, finished_at: at,
    });
    await trx('reconciliation_exceptions').insert({
      id, dedupe_key: `test:${id}`, type: exception.type, severity: SEVERITY_OF[exception.type], organisation_id: exception.organisationId, source: exception.source,
      amount_minor: exception.amount.minor.toString(), currency: exception.amount.currency, run_id: runId, created_at: at, updated_at: at,
    });
  });
  return id;
}
