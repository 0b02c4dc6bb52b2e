import type { Knex } from 'knex';

/**
 * Vouchers for beneficiaries without an account, redeemed at registered merchants and cash-out agents.
 * - A voucher group belongs to a program: the program's budget funds the group's vouchers, and the group says how
 *   long a voucher stays valid.
 * - A merchant (or agent) is paid at its registered account, never at one a redemption request names; its
 *   credential, when it has one of its own, is linked here.
 * - A voucher's number is its secret and is kept only as a keyed hash; the serial number is the showable name.
 *   Serial numbers come from one sequence, ten digits each, as GovStack's data structures give them.
 * - Every status change appends an event; the database refuses to edit or erase the events.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE voucher_groups (
      id uuid PRIMARY KEY,
      organisation_id uuid NOT NULL REFERENCES organisations(id),
      code text NOT NULL CHECK (code ~ '^[A-Za-z0-9_.-]{1,20}$'),
      name text NOT NULL,
      program_id uuid NOT NULL REFERENCES programs(id),
      validity_seconds integer NOT NULL CHECK (validity_seconds > 0),
      created_at timestamptz NOT NULL DEFAULT now(),
      UNIQUE (organisation_id, code)
    );

    CREATE TABLE merchants (
      id uuid PRIMARY KEY,
      organisation_id uuid NOT NULL REFERENCES organisations(id),
      code text NOT NULL CHECK (code ~ '^[A-Za-z0-9_.-]{1,10}$'),
      name text NOT NULL,
      kind text NOT NULL CHECK (kind IN ('merchant', 'agent')),
      account jsonb NOT NULL,
      voucher_groups text[],
      api_client_id uuid UNIQUE REFERENCES api_clients(id),
      created_at timestamptz NOT NULL DEFAULT now(),
      UNIQUE (organisation_id, code)
    );
    CREATE INDEX merchants_by_name ON merchants (organisation_id, lower(name));

    CREATE SEQUENCE voucher_serial_numbers START WITH 1000000001 MAXVALUE 9999999999;

    CREATE TABLE vouchers (
      serial_number bigint PRIMARY KEY DEFAULT nextval('voucher_serial_numbers'),
      organisation_id uuid NOT NULL,
      number_hash bytea NOT NULL,
      group_id uuid NOT NULL REFERENCES voucher_groups(id),
      amount_minor bigint NOT NULL CHECK (amount_minor > 0),
      currency char(3) NOT NULL,
      status text NOT NULL CHECK (status IN ('pre_activated', 'activated', 'suspended', 'redeemed', 'cancelled', 'expired')),
      expires_at timestamptz NOT NULL,
      request_id text NOT NULL,
      batch_reference text,
      instruction_id text,
      registering_institution text NOT NULL DEFAULT '',
      payee_functional_id text,
      narration text,
      created_by uuid,
      redeemed_by uuid REFERENCES merchants(id),
      redemption_request_id text,
      payout_order_id uuid,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      activated_at timestamptz,
      redeemed_at timestamptz
    );
    CREATE UNIQUE INDEX vouchers_by_number ON vouchers (number_hash);
    CREATE INDEX vouchers_by_request ON vouchers (organisation_id, request_id);
    CREATE INDEX vouchers_expiring ON vouchers (expires_at) WHERE status IN ('pre_activated', 'activated', 'suspended');

    CREATE TABLE voucher_events (
      id bigserial PRIMARY KEY,
      serial_number bigint NOT NULL,
      from_status text NOT NULL,
      to_status text NOT NULL,
      detail jsonb NOT NULL DEFAULT '{}',
      created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX voucher_events_by_voucher ON voucher_events (serial_number, id);
    CREATE TRIGGER voucher_events_append_only BEFORE UPDATE OR DELETE ON voucher_events
      FOR EACH ROW EXECUTE FUNCTION kassa_refuse_change();
    CREATE TRIGGER voucher_events_no_truncate BEFORE TRUNCATE ON voucher_events
      FOR EACH STATEMENT EXECUTE FUNCTION kassa_refuse_change();
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    DROP TABLE voucher_events;
    DROP TABLE vouchers;
    DROP SEQUENCE voucher_serial_numbers;
    DROP TABLE merchants;
    DROP TABLE voucher_groups;
  `);
}
