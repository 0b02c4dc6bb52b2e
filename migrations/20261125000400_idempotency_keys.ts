import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE idempotency_keys (
      organisation_id uuid NOT NULL REFERENCES organisations(id),
      key text NOT NULL,
      request_hash text NOT NULL,
      -- Both empty while the first request with the key is still being processed.
      response_status integer,
      response_body jsonb,
      created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (organisation_id, key)
    );
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('idempotency_keys');
}
