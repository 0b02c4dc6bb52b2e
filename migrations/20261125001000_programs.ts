import type { Knex } from 'knex';

/**
 * A benefit program and its budget. Approved batches block their total here before anything is paid; the
 * check below is what makes overspending impossible whichever process moves the money.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE programs (
      id uuid PRIMARY KEY,
      organisation_id uuid NOT NULL REFERENCES organisations(id),
      code text NOT NULL CHECK (code ~ '^[A-Za-z0-9_.-]{1,20}$'),
      name text NOT NULL,
      currency char(3) NOT NULL,
      funding_account jsonb NOT NULL,
      budget_minor bigint NOT NULL CHECK (budget_minor >= 0),
      reserved_minor bigint NOT NULL DEFAULT 0 CHECK (reserved_minor >= 0),
      disbursed_minor bigint NOT NULL DEFAULT 0 CHECK (disbursed_minor >= 0),
      approval_threshold_minor bigint NOT NULL DEFAULT 0 CHECK (approval_threshold_minor >= 0),
      is_default boolean NOT NULL DEFAULT false,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      UNIQUE (organisation_id, code),
      CONSTRAINT programs_within_budget CHECK (reserved_minor + disbursed_minor <= budget_minor)
    );
    CREATE UNIQUE INDEX programs_one_default ON programs (organisation_id) WHERE is_default;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TABLE programs');
}
