import type { Knex } from 'knex';

/** Every voucher belongs to an organisation that exists, as every other tenant-owned row does. */
export async function up(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE vouchers ADD CONSTRAINT vouchers_organisation_id_fkey FOREIGN KEY (organisation_id) REFERENCES organisations(id)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE vouchers DROP CONSTRAINT vouchers_organisation_id_fkey');
}
