import { expireDueVouchers } from '../db/repositories/vouchers.ts';
import type { ServiceContext } from './context.ts';
import { releaseVoucherAmounts } from './voucher-budget.ts';

/** Vouchers expired per transaction, and transactions per run: a backlog is worked off over a few runs. */
const VOUCHERS_PER_TRANSACTION = 5_000;
const TRANSACTIONS_PER_RUN = 20;

/**
 * Marks vouchers past their expiry as expired and gives their amounts back to their programs' budgets, each batch
 * of vouchers and its release in one transaction. Redemption refuses an expired voucher whether or not this has run.
 */
export async function expireVouchers(context: Pick<ServiceContext, 'db' | 'logger'>): Promise<number> {
  let expired = 0;
  for (let round = 0; round < TRANSACTIONS_PER_RUN; round += 1) {
    const count = await context.db.transaction(async (trx) => {
      const ended = await expireDueVouchers(trx, VOUCHERS_PER_TRANSACTION);
      await releaseVoucherAmounts(trx, ended);
      return ended.length;
    });
    expired += count;
    if (count < VOUCHERS_PER_TRANSACTION) break;
  }
  if (expired > 0) context.logger.info({ expired }, 'vouchers expired and their amounts released');
  return expired;
}
