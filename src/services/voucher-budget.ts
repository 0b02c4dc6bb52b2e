import { findProgramsByIds } from '../db/repositories/programs.ts';
import type { ChangedVoucher } from '../db/repositories/vouchers.ts';
import type { Database } from '../db/knex.ts';
import { releaseVoucherFunds } from './program-funds.ts';

/**
 * Gives back to their programs' budgets what unused vouchers (cancelled, expired) had blocked, posting each release
 * to the ledger. One release per program, programs in id order, so two transactions settling the same programs
 * never wait on each other crosswise.
 */
export async function releaseVoucherAmounts(trx: Database, vouchers: readonly ChangedVoucher[]): Promise<void> {
  const byProgram = new Map<string, bigint>();
  for (const voucher of vouchers) byProgram.set(voucher.programId, (byProgram.get(voucher.programId) ?? 0n) + voucher.amountMinor);
  const programs = await findProgramsByIds(trx, [...byProgram.keys()]);
  for (const [programId, total] of [...byProgram].sort(([a], [b]) => a.localeCompare(b))) {
    await releaseVoucherFunds(trx, programs.get(programId)!, total);
  }
}
