import type { Knex } from 'knex';

/** A completed payment the payee's bank sent back, as a statement shows it, becomes `returned`. */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    ALTER TABLE orders DROP CONSTRAINT orders_status_check;
    ALTER TABLE orders ADD CONSTRAINT orders_status_check
      CHECK (status IN ('received', 'queued', 'submitted', 'requires_action', 'unknown', 'completed', 'failed', 'cancelled', 'returned'));
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    UPDATE orders SET status = 'completed' WHERE status = 'returned';
    ALTER TABLE orders DROP CONSTRAINT orders_status_check;
    ALTER TABLE orders ADD CONSTRAINT orders_status_check
      CHECK (status IN ('received', 'queued', 'submitted', 'requires_action', 'unknown', 'completed', 'failed', 'cancelled'));
  `);
}
