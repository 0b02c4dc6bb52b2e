import type { Knex } from 'knex';

/** Who did what, when and from where; the database itself refuses to edit or erase the record. */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE audit_log (
      id bigserial PRIMARY KEY,
      at timestamptz NOT NULL DEFAULT now(),
      organisation_id uuid REFERENCES organisations(id),
      client_id uuid REFERENCES api_clients(id),
      actor text NOT NULL,
      action text NOT NULL,
      target text,
      source_ip text,
      request_id text,
      detail jsonb NOT NULL DEFAULT '{}'
    );
    CREATE INDEX audit_log_by_time ON audit_log (at, id);
    CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
      FOR EACH ROW EXECUTE FUNCTION kassa_refuse_change();
    CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
      FOR EACH STATEMENT EXECUTE FUNCTION kassa_refuse_change();
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TABLE audit_log');
}
