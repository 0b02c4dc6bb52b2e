import type { Knex } from 'knex';

/**
 * Bank and rail statements as they were received, line by line: the evidence reconciliation works from.
 * A statement is deployment-wide (organisation_id NULL) or an organisation's; its file hash is unique, so a
 * file imported twice is recognised and its lines are never counted twice (the hash is set when the last
 * line is in, inside the import's transaction). A bulk line (one booking for a whole chunk of payments) lists
 * the payments it covers in statement_line_payments. Lines are never deleted; only their match is recorded.
 * imported_at is kept to the millisecond, the precision of the API's keyset cursors.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE statements (
      id uuid PRIMARY KEY,
      seq bigserial NOT NULL UNIQUE,
      organisation_id uuid REFERENCES organisations(id),
      source text NOT NULL,
      account text,
      format text NOT NULL CHECK (format IN ('camt.053', 'camt.054', 'mt940', 'csv', 'rail')),
      file_hash text UNIQUE,
      statement_ref text,
      period_from date,
      period_to date,
      currency char(3),
      opening_balance_minor bigint,
      closing_balance_minor bigint,
      reports jsonb NOT NULL DEFAULT '[]',
      line_count integer NOT NULL DEFAULT 0,
      imported_by text NOT NULL,
      imported_by_client uuid REFERENCES api_clients(id),
      imported_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now()),
      -- what the statement can know of: the moment it was asked for (a pull) or taken in (a file)
      as_of timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX statements_listing ON statements (imported_at DESC, id DESC);

    -- statement_id is not a foreign key: lines are written only by their statement's import, in its
    -- transaction, and a per-row check would cost more than the insert itself on a million-line statement.
    CREATE TABLE statement_lines (
      statement_id uuid NOT NULL,
      line_number integer NOT NULL,
      amount_minor bigint NOT NULL CHECK (amount_minor >= 0),
      currency char(3) NOT NULL,
      direction text NOT NULL CHECK (direction IN ('credit', 'debit')),
      booking_date date NOT NULL,
      value_date date NOT NULL,
      rail_key text,
      rail_reference text NOT NULL,
      counterparty text,
      counterparty_account text,
      reversal boolean NOT NULL DEFAULT false,
      reason_code text,
      batch_count integer CHECK (batch_count > 0),
      batch_reference text,
      order_id uuid,
      match_method text CHECK (match_method IN ('reference', 'amount_date_counterparty')),
      PRIMARY KEY (statement_id, line_number)
    );
    -- A line names its order by rail key (the end-to-end reference); order_id is set only for lines matched
    -- without one (amount, value date, counterparty).
    CREATE INDEX statement_lines_by_rail_key ON statement_lines (rail_key) WHERE rail_key IS NOT NULL;
    CREATE INDEX statement_lines_by_order ON statement_lines (order_id) WHERE order_id IS NOT NULL;
    -- a bulk line listed again by a later statement (the same booking) is found by its reference
    CREATE INDEX statement_lines_bulk_by_reference ON statement_lines (rail_reference) WHERE batch_count IS NOT NULL;

    CREATE TABLE statement_line_payments (
      statement_id uuid NOT NULL,
      line_number integer NOT NULL,
      position integer NOT NULL,
      rail_key text,
      rail_reference text,
      order_id uuid,
      match_method text NOT NULL CHECK (match_method IN ('reference', 'total')),
      PRIMARY KEY (statement_id, line_number, position)
    );
    CREATE INDEX statement_line_payments_by_order ON statement_line_payments (order_id) WHERE order_id IS NOT NULL;
    CREATE INDEX statement_line_payments_by_rail_key ON statement_line_payments (rail_key) WHERE rail_key IS NOT NULL;

    CREATE TRIGGER statements_no_delete BEFORE DELETE ON statements FOR EACH ROW EXECUTE FUNCTION kassa_refuse_change();
    CREATE TRIGGER statements_no_truncate BEFORE TRUNCATE ON statements FOR EACH STATEMENT EXECUTE FUNCTION kassa_refuse_change();
    CREATE TRIGGER statement_lines_no_delete BEFORE DELETE ON statement_lines FOR EACH ROW EXECUTE FUNCTION kassa_refuse_change();
    CREATE TRIGGER statement_lines_no_truncate BEFORE TRUNCATE ON statement_lines FOR EACH STATEMENT EXECUTE FUNCTION kassa_refuse_change();
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TABLE statement_line_payments; DROP TABLE statement_lines; DROP TABLE statements');
}
