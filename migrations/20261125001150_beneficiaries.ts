import type { Knex } from 'knex';

/**
 * The account mapper: which financial address a registering institution's beneficiary is paid at. The
 * functional id is the beneficiary's lasting key; the modality and address may change.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE beneficiaries (
      organisation_id uuid NOT NULL REFERENCES organisations(id),
      registering_institution text NOT NULL,
      functional_id text NOT NULL,
      modality text NOT NULL CHECK (modality IN ('00', '01', '02', '03', '04')),
      financial_address text NOT NULL,
      institution_code text,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (organisation_id, registering_institution, functional_id)
    );
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TABLE beneficiaries');
}
