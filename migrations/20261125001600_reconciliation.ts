import type { Knex } from 'knex';

/**
 * Every reconciliation run (source, period, counts, who started it), and the exceptions runs find. An
 * exception's dedupe_key names what it is about (the order, the booking), so running a reconciliation again,
 * or importing the same booking in another statement, reports it once. Exceptions are assigned and resolved,
 * never deleted. Listing times are kept to the millisecond, the precision of the API's keyset cursors.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE reconciliation_runs (
      id uuid PRIMARY KEY,
      statement_id uuid REFERENCES statements(id),
      source text NOT NULL,
      period_from date,
      period_to date,
      trigger text NOT NULL CHECK (trigger IN ('import', 'pull', 'schedule', 'rerun')),
      status text NOT NULL CHECK (status IN ('running', 'completed', 'failed')),
      lines integer NOT NULL DEFAULT 0,
      matched integer NOT NULL DEFAULT 0,
      unmatched integer NOT NULL DEFAULT 0,
      exceptions integer NOT NULL DEFAULT 0,
      exceptions_by_type jsonb NOT NULL DEFAULT '{}',
      confirmed integer NOT NULL DEFAULT 0,
      returned integer NOT NULL DEFAULT 0,
      auto_resolved integer NOT NULL DEFAULT 0,
      started_by text NOT NULL,
      started_by_client uuid REFERENCES api_clients(id),
      started_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', clock_timestamp()),
      finished_at timestamptz,
      error text
    );
    CREATE INDEX reconciliation_runs_listing ON reconciliation_runs (started_at DESC, id DESC);

    CREATE TABLE reconciliation_exceptions (
      id uuid PRIMARY KEY,
      dedupe_key text NOT NULL UNIQUE,
      type text NOT NULL CHECK (type IN ('missing_on_statement', 'unexpected_on_statement', 'amount_mismatch', 'duplicate_on_statement', 'status_mismatch', 'returned')),
      severity text NOT NULL CHECK (severity IN ('critical', 'high', 'medium', 'low')),
      status text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'assigned', 'resolved')),
      organisation_id uuid REFERENCES organisations(id),
      source text NOT NULL,
      order_id uuid REFERENCES orders(id),
      statement_id uuid REFERENCES statements(id),
      line_number integer,
      rail_key text,
      rail_reference text,
      amount_minor bigint,
      currency char(3),
      detail jsonb NOT NULL DEFAULT '{}',
      run_id uuid NOT NULL REFERENCES reconciliation_runs(id),
      assignee text,
      assigned_at timestamptz,
      resolution text,
      resolved_by text,
      resolved_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now()),
      updated_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX reconciliation_exceptions_listing ON reconciliation_exceptions (created_at DESC, id DESC);
    CREATE INDEX reconciliation_exceptions_by_organisation ON reconciliation_exceptions (organisation_id, created_at DESC, id DESC);
    CREATE INDEX reconciliation_exceptions_open_by_order ON reconciliation_exceptions (order_id) WHERE status <> 'resolved';
    CREATE TRIGGER reconciliation_exceptions_no_delete BEFORE DELETE ON reconciliation_exceptions FOR EACH ROW EXECUTE FUNCTION kassa_refuse_change();
    CREATE TRIGGER reconciliation_runs_no_delete BEFORE DELETE ON reconciliation_runs FOR EACH ROW EXECUTE FUNCTION kassa_refuse_change();
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TABLE reconciliation_exceptions; DROP TABLE reconciliation_runs');
}
