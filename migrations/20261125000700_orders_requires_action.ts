import type { Knex } from 'knex';

/** A collection can wait on the payer (approve on the phone, pay on a hosted page): the order says what is awaited. */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    ALTER TABLE orders DROP CONSTRAINT orders_status_check;
    ALTER TABLE orders ADD CONSTRAINT orders_status_check
      CHECK (status IN ('received', 'queued', 'submitted', 'requires_action', 'unknown', 'completed', 'failed', 'cancelled'));
    ALTER TABLE orders ADD COLUMN next_action jsonb;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    UPDATE orders SET status = 'submitted' WHERE status = 'requires_action';
    ALTER TABLE orders DROP COLUMN next_action;
    ALTER TABLE orders DROP CONSTRAINT orders_status_check;
    ALTER TABLE orders ADD CONSTRAINT orders_status_check
      CHECK (status IN ('received', 'queued', 'submitted', 'unknown', 'completed', 'failed', 'cancelled'));
  `);
}
