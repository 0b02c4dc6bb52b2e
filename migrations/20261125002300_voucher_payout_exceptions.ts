import type { Knex } from 'knex';

/**
 * A redeemed voucher whose payout failed, was cancelled or came back leaves Kassa owing the merchant: the pipeline
 * raises an exception for it, in the same statement that records the payout's end, so treasury's list of what is
 * owed is never behind. Such an exception comes from no reconciliation run.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    ALTER TABLE reconciliation_exceptions DROP CONSTRAINT reconciliation_exceptions_type_check;
    ALTER TABLE reconciliation_exceptions ADD CONSTRAINT reconciliation_exceptions_type_check CHECK (type IN (
      'missing_on_statement', 'unexpected_on_statement', 'amount_mismatch', 'duplicate_on_statement', 'status_mismatch', 'returned', 'voucher_payout_failed'));
    ALTER TABLE reconciliation_exceptions ALTER COLUMN run_id DROP NOT NULL;
    CREATE INDEX vouchers_by_payout_order ON vouchers (payout_order_id) WHERE payout_order_id IS NOT NULL;
  `);
}

// Exceptions are never deleted, so a database holding pipeline exceptions cannot go back: SET NOT NULL refuses.
export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    DROP INDEX vouchers_by_payout_order;
    ALTER TABLE reconciliation_exceptions ALTER COLUMN run_id SET NOT NULL;
    ALTER TABLE reconciliation_exceptions DROP CONSTRAINT reconciliation_exceptions_type_check;
    ALTER TABLE reconciliation_exceptions ADD CONSTRAINT reconciliation_exceptions_type_check CHECK (type IN (
      'missing_on_statement', 'unexpected_on_statement', 'amount_mismatch', 'duplicate_on_statement', 'status_mismatch', 'returned'));
  `);
}
