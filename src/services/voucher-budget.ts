import { settleFunds } from '../db/repositories/programs.ts';
import type { ChangedVoucher } from '../db/repositories/vouchers.ts';
import type { Database } from '../db/knex.ts';

/**
 * Settles what vouchers blocked on their programs' budgets: a redeemed voucher's amount becomes disbursed, an unused
 * one's (cancelled, expired) is released. One update per program, programs in id order, so two transactions settling
 * the same programs never wait on each other crosswise.
 */
export async function settleVoucherAmounts(trx: Database, vouchers: readonly ChangedVoucher[], outcome: 'disbursed' | 'released'): Promise<void> {
  const byProgram = new Map<string, bigint>();
  for (const voucher of vouchers) byProgram.set(voucher.programId, (byProgram.get(voucher.programId) ?? 0n) + voucher.amountMinor);
  for (const [programId, total] of [...byProgram].sort(([a], [b]) => a.localeCompare(b))) {
    await settleFunds(trx, programId, outcome === 'disbursed' ? total : 0n, outcome === 'released' ? total : 0n);
  }
}
