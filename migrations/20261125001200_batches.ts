import type { Knex } from 'knex';

/**
 * A batch is an envelope (declared count and total, program, who made and who approved it) around its rows.
 * Rows keep what the agency sent and what became of it: invalid with a reason, or the order that pays it.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE batches (
      id uuid PRIMARY KEY,
      organisation_id uuid NOT NULL REFERENCES organisations(id),
      program_id uuid NOT NULL REFERENCES programs(id),
      api text NOT NULL CHECK (api IN ('kassa', 'govstack', 'govstack_legacy')),
      correlation_id text NOT NULL,
      request_hash text NOT NULL,
      reference text,
      registering_institution text NOT NULL DEFAULT '',
      callback_url text,
      validate_only boolean NOT NULL DEFAULT false,
      status text NOT NULL CHECK (status IN ('validating', 'awaiting_approval', 'scheduled', 'processing', 'completed', 'rejected', 'cancelled')),
      currency char(3) NOT NULL,
      declared_count integer,
      declared_totals jsonb,
      row_count integer NOT NULL DEFAULT 0,
      valid_count integer NOT NULL DEFAULT 0,
      invalid_count integer NOT NULL DEFAULT 0,
      valid_total_minor bigint NOT NULL DEFAULT 0,
      reserved_minor bigint NOT NULL DEFAULT 0 CHECK (reserved_minor >= 0),
      disbursed_minor bigint NOT NULL DEFAULT 0 CHECK (disbursed_minor >= 0),
      ordered_through integer NOT NULL DEFAULT 0,
      progress jsonb NOT NULL DEFAULT '{}',
      milestone smallint NOT NULL DEFAULT 0,
      execute_at timestamptz,
      created_by uuid REFERENCES api_clients(id),
      approved_by uuid REFERENCES api_clients(id),
      approved_at timestamptz,
      cancel_requested_at timestamptz,
      rejection_code text,
      rejection_reason text,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      completed_at timestamptz,
      UNIQUE (organisation_id, api, correlation_id)
    );
    CREATE INDEX batches_listing ON batches (organisation_id, created_at DESC, id DESC);
    CREATE INDEX batches_unfinished ON batches (status) WHERE status IN ('validating', 'scheduled', 'processing');

    CREATE TABLE batch_rows (
      batch_id uuid NOT NULL REFERENCES batches(id),
      row_number integer NOT NULL,
      instruction_id text NOT NULL,
      payee_identity text,
      payee jsonb,
      payer jsonb,
      amount_minor bigint,
      currency text,
      note text,
      status text NOT NULL CHECK (status IN ('pending', 'valid', 'invalid', 'ordered', 'cancelled')),
      reason_code text,
      reason text,
      order_id uuid,
      PRIMARY KEY (batch_id, row_number)
    ) WITH (fillfactor = 70);

    -- Which order pays each instruction of a program: the primary key is what makes paying one twice
    -- impossible, even for two batches of the program running side by side.
    CREATE TABLE program_payments (
      program_id uuid NOT NULL REFERENCES programs(id),
      instruction_id text NOT NULL,
      order_id uuid NOT NULL,
      PRIMARY KEY (program_id, instruction_id)
    );

    ALTER TABLE orders ADD COLUMN batch_id uuid REFERENCES batches(id);
    CREATE INDEX orders_by_batch ON orders (batch_id, status) INCLUDE (amount_minor) WHERE batch_id IS NOT NULL;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    DROP INDEX orders_by_batch;
    ALTER TABLE orders DROP COLUMN batch_id;
    DROP TABLE program_payments;
    DROP TABLE batch_rows;
    DROP TABLE batches;
  `);
}
