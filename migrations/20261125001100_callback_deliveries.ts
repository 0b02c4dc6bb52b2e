import type { Knex } from 'knex';

/**
 * Results pushed to a URL the caller named with its request (GovStack's X-Callback-URL). The row is the
 * delivery's truth, so a wiped queue loses no callback; the dedupe key makes queueing the same result twice
 * a no-op.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE callback_deliveries (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      organisation_id uuid NOT NULL REFERENCES organisations(id),
      url text NOT NULL,
      event_type text NOT NULL,
      body jsonb NOT NULL,
      dedupe_key text NOT NULL,
      status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
      attempts integer NOT NULL DEFAULT 0,
      last_status integer,
      last_error text,
      next_attempt_at timestamptz NOT NULL DEFAULT now(),
      created_at timestamptz NOT NULL DEFAULT now(),
      delivered_at timestamptz,
      UNIQUE (organisation_id, dedupe_key)
    );
    CREATE INDEX callback_deliveries_pending ON callback_deliveries (next_attempt_at) WHERE status = 'pending';
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TABLE callback_deliveries');
}
