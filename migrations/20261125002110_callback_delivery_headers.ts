import type { Knex } from 'knex';

/** Headers a callback must carry besides Kassa's own: GovStack's P2G calls name their correlation and tenant there. */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`ALTER TABLE callback_deliveries ADD COLUMN headers jsonb NOT NULL DEFAULT '{}'`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE callback_deliveries DROP COLUMN headers');
}
