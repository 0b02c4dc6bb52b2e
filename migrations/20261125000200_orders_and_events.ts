import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE orders (
      id uuid PRIMARY KEY,
      organisation_id uuid NOT NULL REFERENCES organisations(id),
      kind text NOT NULL CHECK (kind IN ('fee', 'benefit')),
      status text NOT NULL CHECK (status IN ('received', 'queued', 'submitted', 'unknown', 'completed', 'failed', 'cancelled')),
      amount_minor bigint NOT NULL CHECK (amount_minor > 0),
      currency char(3) NOT NULL,
      payer jsonb NOT NULL,
      payee jsonb NOT NULL,
      reference text NOT NULL,
      callback_url text,
      metadata jsonb NOT NULL DEFAULT '{}',
      rail text NOT NULL,
      rail_key text NOT NULL UNIQUE,
      rail_reference text,
      failure_code text,
      failure_reason text,
      dispatch_attempts integer NOT NULL DEFAULT 0,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX orders_listing ON orders (organisation_id, created_at DESC, id DESC);
    CREATE INDEX orders_not_final ON orders (updated_at) WHERE status NOT IN ('completed', 'failed', 'cancelled');

    CREATE TABLE order_events (
      id bigserial PRIMARY KEY,
      order_id uuid NOT NULL REFERENCES orders(id),
      from_status text,
      to_status text NOT NULL,
      detail jsonb NOT NULL DEFAULT '{}',
      created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX order_events_by_order ON order_events (order_id, id);

    CREATE FUNCTION kassa_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP USING ERRCODE = 'insufficient_privilege';
    END $$;
    CREATE TRIGGER order_events_append_only BEFORE UPDATE OR DELETE ON order_events
      FOR EACH ROW EXECUTE FUNCTION kassa_refuse_change();
    CREATE TRIGGER order_events_no_truncate BEFORE TRUNCATE ON order_events
      FOR EACH STATEMENT EXECUTE FUNCTION kassa_refuse_change();
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TABLE order_events; DROP TABLE orders; DROP FUNCTION kassa_refuse_change()');
}
