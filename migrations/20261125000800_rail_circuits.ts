import type { Knex } from 'knex';

/** One circuit breaker per rail, in the database so that every worker process sees the same state. */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE rail_circuits (
      rail text PRIMARY KEY,
      state text NOT NULL DEFAULT 'closed' CHECK (state IN ('closed', 'open', 'half_open')),
      consecutive_failures integer NOT NULL DEFAULT 0,
      opened_at timestamptz,
      retry_at timestamptz,
      updated_at timestamptz NOT NULL DEFAULT now()
    );
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('rail_circuits');
}
