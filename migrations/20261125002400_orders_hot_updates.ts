import type { Knex } from 'knex';

/**
 * A payment's status changes two or three times after it is written, and a million-payment batch makes three
 * million such changes. PostgreSQL makes a change in place on the row's own page (a HOT update, no new entry in
 * any index) only when no indexed column changes and the page has room. So:
 * - `status` and `updated_at` leave every index. The sweeper's index holds unfinished orders by creation time,
 *   and says which are unfinished through `finished`, a column that changes once, when the order becomes final;
 *   how overdue an order is gets read from the row.
 * - A batch's counts per status, which its monitor used to aggregate from `orders_by_batch (batch_id, status)`,
 *   are kept as signed deltas, written in the same statement as each status change. They are insert-only, so
 *   workers changing orders of one batch side by side never wait on one another, and have no foreign key, which
 *   would lock the batch row against its monitor.
 * - Pages keep a fifth free for the new versions of their rows.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    ALTER TABLE orders SET (fillfactor = 80);
    ALTER TABLE orders ADD COLUMN finished boolean GENERATED ALWAYS AS (status IN ('completed', 'failed', 'cancelled', 'returned')) STORED;
    DROP INDEX orders_overdue;
    CREATE INDEX orders_unfinished ON orders (created_at) WHERE NOT finished;
    DROP INDEX orders_by_batch;
    CREATE INDEX orders_by_batch ON orders (batch_id) WHERE batch_id IS NOT NULL;

    CREATE TABLE batch_order_tallies (
      batch_id uuid NOT NULL,
      status text NOT NULL,
      orders integer NOT NULL,
      amount_minor bigint NOT NULL
    );
    CREATE INDEX batch_order_tallies_by_batch ON batch_order_tallies (batch_id);
    INSERT INTO batch_order_tallies (batch_id, status, orders, amount_minor)
      SELECT batch_id, status, count(*), sum(amount_minor) FROM orders WHERE batch_id IS NOT NULL GROUP BY batch_id, status;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    DROP TABLE batch_order_tallies;
    DROP INDEX orders_by_batch;
    CREATE INDEX orders_by_batch ON orders (batch_id, status) INCLUDE (amount_minor) WHERE batch_id IS NOT NULL;
    DROP INDEX orders_unfinished;
    ALTER TABLE orders DROP COLUMN finished;
    CREATE INDEX orders_overdue ON orders ((COALESCE(next_check_at, updated_at))) WHERE status NOT IN ('completed', 'failed', 'cancelled');
    ALTER TABLE orders RESET (fillfactor);
  `);
}
