import type { Knex } from 'knex';

/**
 * When Kassa next expects to look at an unfinished order (its next inquiry, its dispatch). The sweeper takes
 * up only orders that are overdue by this, so orders that are simply waiting on a slow rail are left alone.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    ALTER TABLE orders ADD COLUMN next_check_at timestamptz;
    DROP INDEX orders_not_final;
    CREATE INDEX orders_overdue ON orders ((COALESCE(next_check_at, updated_at)))
      WHERE status NOT IN ('completed', 'failed', 'cancelled');
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    DROP INDEX orders_overdue;
    ALTER TABLE orders DROP COLUMN next_check_at;
    CREATE INDEX orders_not_final ON orders (updated_at) WHERE status NOT IN ('completed', 'failed', 'cancelled');
  `);
}
