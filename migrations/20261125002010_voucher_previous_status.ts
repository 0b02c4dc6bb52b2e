import type { Knex } from 'knex';

/**
 * A voucher keeps the status it last moved from, so one guarded UPDATE reports it for the event row, as orders do
 * (20261125001300), instead of joining the rows it locked: a join the planner misjudges on a table a pre-activation
 * has just filled.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE vouchers ADD COLUMN previous_status text');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE vouchers DROP COLUMN previous_status');
}
