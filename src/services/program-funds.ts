import { fundsBlocked, fundsReleased, type ProgramFunds } from '../domain/ledger.ts';
import type { Order } from '../domain/order.ts';
import { loadBatch, updateBatch, type Batch } from '../db/repositories/batches.ts';
import type { Database } from '../db/knex.ts';
import { postJournal } from '../db/repositories/ledger.ts';
import { reserveFunds, settleFunds, type Program } from '../db/repositories/programs.ts';
import type { VoucherGroup } from '../db/repositories/voucher-groups.ts';

/** A batch's claim on its program's budget, as the ledger names it. */
const fundsOf = (batch: Batch): ProgramFunds => ({ organisationId: batch.organisationId, programId: batch.programId, batchId: batch.id, currency: batch.currency });

/**
 * Blocks `amountMinor` of the budget for the batch, in the program's columns and in the ledger, in the caller's
 * transaction; false, blocking and posting nothing, when what is left does not cover it.
 */
export async function blockBatchFunds(trx: Database, batch: Batch, amountMinor: bigint): Promise<boolean> {
  if (!(await reserveFunds(trx, batch.programId, amountMinor))) return false;
  if (amountMinor > 0n) await postJournal(trx, fundsBlocked(fundsOf(batch), amountMinor));
  return true;
}

/**
 * Moves the batch's blocked funds: `disbursedMinor` to spent (each payment posted its own spending as it
 * completed), `releasedMinor` back to the budget, posted here.
 */
export async function settleBatchFunds(trx: Database, batch: Batch, disbursedMinor: bigint, releasedMinor: bigint): Promise<void> {
  await settleFunds(trx, batch.programId, disbursedMinor, releasedMinor);
  if (releasedMinor !== 0n) await postJournal(trx, fundsReleased(fundsOf(batch), releasedMinor));
}

/**
 * Gives the budget back what returned payments of finished batches had spent: their return brought the money
 * back to the program's blocked funds, and nothing is blocked any more, so it is released. A batch still
 * processing is left to the monitor, which settles it from its totals, returns included.
 */
export async function restoreReturnedFunds(trx: Database, returned: readonly Order[]): Promise<void> {
  const byBatch = new Map<string, bigint>();
  for (const order of returned) {
    if (order.batchId !== null) byBatch.set(order.batchId, (byBatch.get(order.batchId) ?? 0n) + order.amount.minor);
  }
  // In id order, so that two runs returning payments of the same batches never wait on each other crosswise.
  for (const batchId of [...byBatch.keys()].sort()) {
    const batch = (await loadBatch(trx, batchId, { forUpdate: true }))!;
    if (batch.status === 'processing') continue;
    const amountMinor = byBatch.get(batchId)!;
    await settleBatchFunds(trx, batch, -amountMinor, amountMinor);
    await updateBatch(trx, batchId, [batch.status], { disbursedMinor: batch.disbursedMinor - amountMinor });
  }
}

/** Vouchers' claim on a program: no batch, the program's own currency. */
const voucherFundsOf = (program: Pick<Program, 'id' | 'organisationId' | 'currency'>): ProgramFunds => ({ organisationId: program.organisationId, programId: program.id, batchId: null, currency: program.currency });

/** Blocks what pre-activated vouchers are worth, in the program's columns and in the ledger; false, changing nothing, when the budget left does not cover it. */
export async function blockVoucherFunds(trx: Database, program: Pick<Program, 'id' | 'organisationId' | 'currency'>, amountMinor: bigint): Promise<boolean> {
  if (!(await reserveFunds(trx, program.id, amountMinor))) return false;
  if (amountMinor > 0n) await postJournal(trx, fundsBlocked(voucherFundsOf(program), amountMinor));
  return true;
}

/** Gives the budget back what cancelled or expired vouchers had blocked. (A redeemed voucher's payout order posts its own spending.) */
export async function releaseVoucherFunds(trx: Database, program: Pick<Program, 'id' | 'organisationId' | 'currency'>, amountMinor: bigint): Promise<void> {
  await settleFunds(trx, program.id, 0n, amountMinor);
  if (amountMinor !== 0n) await postJournal(trx, fundsReleased(voucherFundsOf(program), amountMinor));
}

/** A program's vouchers and what they are worth: how a group's claim is totalled before it is blocked. */
export interface VoucherClaim {
  readonly group: Pick<VoucherGroup, 'programId' | 'organisationId' | 'currency' | 'programCode'>;
  readonly amountMinor: bigint;
}

/**
 * Blocks the vouchers' total on each program, programs in id order so two transactions never wait on each other
 * crosswise. Answers the first program whose budget left does not cover its total (the caller refuses and rolls
 * back), or nothing when every total is blocked.
 */
export async function blockVoucherTotals(trx: Database, claims: readonly VoucherClaim[]): Promise<{ group: VoucherClaim['group']; totalMinor: bigint } | undefined> {
  const byProgram = new Map<string, { group: VoucherClaim['group']; totalMinor: bigint }>();
  for (const { group, amountMinor } of claims) {
    byProgram.set(group.programId, { group, totalMinor: (byProgram.get(group.programId)?.totalMinor ?? 0n) + amountMinor });
  }
  for (const [programId, claim] of [...byProgram].sort(([a], [b]) => a.localeCompare(b))) {
    const program = { id: programId, organisationId: claim.group.organisationId, currency: claim.group.currency };
    if (!(await blockVoucherFunds(trx, program, claim.totalMinor))) return claim;
  }
  return undefined;
}
