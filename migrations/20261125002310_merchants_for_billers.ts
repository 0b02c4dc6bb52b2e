import type { Knex } from 'knex';

/**
 * A voucher agency takes a biller as the merchant a bill paid with its vouchers pays out to. The link names the biller
 * itself, whose code may be longer than the ten characters of a merchant's code (GovStack's agentID).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    ALTER TABLE merchants ADD COLUMN biller_id uuid REFERENCES billers(id);
    CREATE UNIQUE INDEX merchants_by_biller ON merchants (organisation_id, biller_id) WHERE biller_id IS NOT NULL;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE merchants DROP COLUMN biller_id');
}
