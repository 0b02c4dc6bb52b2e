import type { Knex } from 'knex';

/** Work the API committed together with its orders; the relay moves it into the queues. */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE outbox (
      id bigserial PRIMARY KEY,
      order_id uuid NOT NULL REFERENCES orders(id),
      rail text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now()
    );
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('outbox');
}
