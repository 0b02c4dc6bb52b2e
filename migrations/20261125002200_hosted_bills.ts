import type { Knex } from 'knex';

/**
 * Bills Kassa holds for billers that run no bill source of their own: their register is loaded into Kassa
 * (`kassa seed`) and bill inquiries are answered from it. Such a biller has no bill source URL. What a register
 * bill says never changes by a payment: whether it is paid is what its live bill payment says, as for any biller.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    ALTER TABLE billers ALTER COLUMN bill_source_url DROP NOT NULL;
    CREATE TABLE hosted_bills (
      biller_id uuid NOT NULL REFERENCES billers(id),
      bill_id text NOT NULL CHECK (bill_id ~ '^[A-Za-z0-9_.-]{1,64}$'),
      currency char(3) NOT NULL,
      amount_on_due_minor bigint NOT NULL CHECK (amount_on_due_minor > 0),
      amount_after_due_minor bigint CHECK (amount_after_due_minor > 0),
      due_at timestamptz,
      description text,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (biller_id, bill_id)
    );
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    DROP TABLE hosted_bills;
    DELETE FROM biller_prefixes WHERE biller_id IN (SELECT id FROM billers WHERE bill_source_url IS NULL);
    DELETE FROM billers WHERE bill_source_url IS NULL;
    ALTER TABLE billers ALTER COLUMN bill_source_url SET NOT NULL;
  `);
}
