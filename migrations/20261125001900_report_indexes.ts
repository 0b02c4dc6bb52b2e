import type { Knex } from 'knex';

/**
 * What the daily report looks up by time and by journal: the day's journals of every organisation (the
 * existing index leads with the organisation), and the orders behind each of those journals (events name their
 * journal; most of the events of a payment do).
 *
 * Built CONCURRENTLY, outside a transaction: order_events is the largest table of a deployment and its hottest
 * write, and a plain CREATE INDEX would hold its writes for as long as the build takes. A build that failed
 * leaves an invalid index behind under the same name, so it is dropped before building again.
 */
export const config = { transaction: false };

export async function up(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX CONCURRENTLY IF EXISTS ledger_journals_by_booking');
  await knex.raw('CREATE INDEX CONCURRENTLY ledger_journals_by_booking ON ledger_journals (booked_at)');
  await knex.raw('DROP INDEX CONCURRENTLY IF EXISTS order_events_by_journal');
  await knex.raw('CREATE INDEX CONCURRENTLY order_events_by_journal ON order_events (journal_id) WHERE journal_id IS NOT NULL');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX CONCURRENTLY order_events_by_journal');
  await knex.raw('DROP INDEX CONCURRENTLY ledger_journals_by_booking');
}
