import type { Knex } from 'knex';

/**
 * The program whose budget pays an order: a batch's program for its payments, a voucher group's program for a
 * redeemed voucher's payout. The ledger posts such an order against the program's blocked funds and spending,
 * whatever brought it about.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    ALTER TABLE orders ADD COLUMN program_id uuid;
    UPDATE orders o SET program_id = b.program_id FROM batches b WHERE o.batch_id = b.id;
    UPDATE orders o SET program_id = g.program_id FROM vouchers v JOIN voucher_groups g ON g.id = v.group_id WHERE v.payout_order_id = o.id;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE orders DROP COLUMN program_id');
}
