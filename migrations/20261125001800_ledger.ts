import type { Knex } from 'knex';

/**
 * The double-entry ledger. An account is named by its organisation, currency and code (`program:<id>:budget`,
 * `clearing:<rail>:<institution>`, …), so the statement that first posts to it can create it with ON CONFLICT
 * DO NOTHING. A journal is one money movement; its postings are signed minor units, a debit positive and a
 * credit negative.
 *
 * The database itself holds the two rules no code path may break:
 * - every journal has at least two postings and sums to zero in each currency, checked when the transaction
 *   commits (constraint triggers, deferred, so a journal and its postings can be written in any order within it);
 * - journals and postings are never edited or erased: a movement is undone by a reversing journal.
 *
 * A journal's batch is not a foreign key: the batch monitor holds its batch's row lock while it measures, and
 * the key's share lock would make every payment of the batch wait for it. Events name their journal without a
 * key for the reason events name their order without one (20261125001300).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE ledger_accounts (
      organisation_id uuid NOT NULL REFERENCES organisations(id),
      currency char(3) NOT NULL,
      code text NOT NULL,
      kind text NOT NULL CHECK (kind IN ('program_budget', 'program_reserved', 'benefits_disbursed', 'direct_benefits', 'fee_revenue',
                                         'clearing', 'suspense', 'refunds', 'rail_fees')),
      created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (organisation_id, currency, code)
    );

    CREATE TABLE ledger_journals (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      organisation_id uuid NOT NULL REFERENCES organisations(id),
      kind text NOT NULL CHECK (kind IN ('benefit_funds_blocked', 'benefit_funds_released', 'benefit_dispatched', 'benefit_completed',
                                         'benefit_failed', 'benefit_returned', 'fee_collected', 'fee_returned')),
      -- the order, when the journal is about one order alone
      order_id uuid REFERENCES orders(id),
      batch_id uuid,
      program_id uuid REFERENCES programs(id),
      reverses_journal_id uuid REFERENCES ledger_journals(id),
      booked_at timestamptz NOT NULL DEFAULT now(),
      created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX ledger_journals_by_time ON ledger_journals (organisation_id, booked_at);

    CREATE TABLE ledger_postings (
      journal_id uuid NOT NULL REFERENCES ledger_journals(id) DEFERRABLE INITIALLY DEFERRED,
      organisation_id uuid NOT NULL,
      account text NOT NULL,
      currency char(3) NOT NULL,
      amount_minor bigint NOT NULL CHECK (amount_minor <> 0),
      PRIMARY KEY (journal_id, account, currency),
      FOREIGN KEY (organisation_id, currency, account) REFERENCES ledger_accounts (organisation_id, currency, code) DEFERRABLE INITIALLY DEFERRED
    );
    CREATE INDEX ledger_postings_by_account ON ledger_postings (organisation_id, currency, account);

    ALTER TABLE order_events ADD COLUMN journal_id uuid;

    CREATE FUNCTION ledger_assert_balanced(journal uuid) RETURNS void LANGUAGE plpgsql AS $$
    DECLARE
      postings integer;
      unbalanced text;
    BEGIN
      SELECT count(*) INTO postings FROM ledger_postings WHERE journal_id = journal;
      IF postings < 2 THEN
        RAISE EXCEPTION 'ledger journal % has % posting(s); a journal needs at least two', journal, postings USING ERRCODE = 'check_violation';
      END IF;
      SELECT string_agg(currency || ' ' || total, ', ' ORDER BY currency) INTO unbalanced
      FROM (SELECT currency, sum(amount_minor) AS total FROM ledger_postings WHERE journal_id = journal GROUP BY currency HAVING sum(amount_minor) <> 0) AS off;
      IF unbalanced IS NOT NULL THEN
        RAISE EXCEPTION 'ledger journal % does not balance: its postings sum to %', journal, unbalanced USING ERRCODE = 'check_violation';
      END IF;
    END $$;

    CREATE FUNCTION ledger_journal_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      PERFORM ledger_assert_balanced(NEW.id);
      RETURN NULL;
    END $$;

    CREATE FUNCTION ledger_posting_journal_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      PERFORM ledger_assert_balanced(NEW.journal_id);
      RETURN NULL;
    END $$;

    -- On journals as well as postings: a journal written with no posting at all must be refused too.
    CREATE CONSTRAINT TRIGGER ledger_journals_balanced AFTER INSERT ON ledger_journals
      DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_journal_balanced();
    CREATE CONSTRAINT TRIGGER ledger_postings_balanced AFTER INSERT ON ledger_postings
      DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_posting_journal_balanced();

    CREATE TRIGGER ledger_accounts_append_only BEFORE UPDATE OR DELETE ON ledger_accounts FOR EACH ROW EXECUTE FUNCTION kassa_refuse_change();
    CREATE TRIGGER ledger_accounts_no_truncate BEFORE TRUNCATE ON ledger_accounts FOR EACH STATEMENT EXECUTE FUNCTION kassa_refuse_change();
    CREATE TRIGGER ledger_journals_append_only BEFORE UPDATE OR DELETE ON ledger_journals FOR EACH ROW EXECUTE FUNCTION kassa_refuse_change();
    CREATE TRIGGER ledger_journals_no_truncate BEFORE TRUNCATE ON ledger_journals FOR EACH STATEMENT EXECUTE FUNCTION kassa_refuse_change();
    CREATE TRIGGER ledger_postings_append_only BEFORE UPDATE OR DELETE ON ledger_postings FOR EACH ROW EXECUTE FUNCTION kassa_refuse_change();
    CREATE TRIGGER ledger_postings_no_truncate BEFORE TRUNCATE ON ledger_postings FOR EACH STATEMENT EXECUTE FUNCTION kassa_refuse_change();
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    ALTER TABLE order_events DROP COLUMN journal_id;
    DROP TABLE ledger_postings;
    DROP TABLE ledger_journals;
    DROP TABLE ledger_accounts;
    DROP FUNCTION ledger_posting_journal_balanced();
    DROP FUNCTION ledger_journal_balanced();
    DROP FUNCTION ledger_assert_balanced(uuid);
  `);
}
