import { NoRailRoute } from '../../adapters/registry.ts';
import { needsApproval, ROW_REASONS } from '../domain/batch.ts';
import { payeePartyOf, type Beneficiary } from '../domain/beneficiary.ts';
import type { Party } from '../domain/order.ts';
import { findBeneficiaries } from '../db/repositories/beneficiaries.ts';
import {
  analyzeBatchRows, pendingRows, recordVerdicts, rejectAlreadyPaidInstructions, rejectDuplicateInstructions, tallyValidation, type PendingRow, type RowVerdict,
} from '../db/repositories/batch-rows.ts';
import { loadBatch, touchBatch, updateBatch, type Batch } from '../db/repositories/batches.ts';
import { findProgram, type Program } from '../db/repositories/programs.ts';
import type { ServiceContext } from './context.ts';
import { notifyBatch } from './notify-batch.ts';
import { queueExecution, releaseBatch } from './release-batch.ts';

const PAGE = 5000;

/**
 * Resolves every row's payee through the account mapper, a page at a time, and checks what needs the whole
 * batch (repeated instructions, instructions an earlier batch paid). Then the batch waits for a checker, or
 * blocks its funds and goes ahead, or is rejected when nothing in it can be paid. Safe to run again.
 */
export async function validateBatch(context: ServiceContext, batchId: string): Promise<void> {
  const batch = await loadBatch(context.db, batchId);
  if (!batch || batch.status !== 'validating') return;
  const program = await findProgram(context.db, batch.organisationId, batch.programId);
  if (!program) throw new Error(`batch ${batchId} names program ${batch.programId}, which does not exist`);

  await analyzeBatchRows(context.db);
  const readPage = async (after: number) => {
    const page = await pendingRows(context.db, batchId, after, PAGE);
    const identities = page.flatMap((row) => (row.payee === null && row.payeeIdentity !== null ? [row.payeeIdentity] : []));
    return { page, beneficiaries: await findBeneficiaries(context.db, batch.organisationId, batch.registeringInstitution, identities) };
  };
  for (let current = await readPage(0); current.page.length > 0;) {
    // The next page is read while this one's verdicts are written (the pages' rows are disjoint); a failed read surfaces where it is awaited.
    const next = readPage(current.page.at(-1)!.rowNumber);
    next.catch(() => undefined);
    await recordVerdicts(context.db, batchId, current.page.map((row) => verdictOf(context, program, row, current.beneficiaries)));
    await touchBatch(context.db, batchId);
    current = await next;
  }
  await rejectDuplicateInstructions(context.db, batchId, ROW_REASONS.duplicate_in_batch);
  await rejectAlreadyPaidInstructions(context.db, batchId, program.id, ROW_REASONS.already_paid);
  const tally = await tallyValidation(context.db, batchId);
  const counts = { validCount: tally.validCount, invalidCount: tally.invalidCount, validTotalMinor: tally.validTotalMinor };

  const decided = await context.db.transaction(async (trx) => {
    const current = await loadBatch(trx, batchId, { forUpdate: true });
    if (!current || current.status !== 'validating') return undefined;
    if (current.validateOnly || tally.validCount === 0) {
      const outcome = current.validateOnly
        ? { status: 'completed' as const, completedAt: new Date(), milestone: 100 }
        : { status: 'rejected' as const, rejectionCode: 'no_valid_rows', rejectionReason: 'no payment in the batch passed validation', completedAt: new Date(), milestone: 100 };
      await updateBatch(trx, batchId, ['validating'], { ...counts, ...outcome });
      return (await loadBatch(trx, batchId))!;
    }
    if (needsApproval(tally.validTotalMinor, program.approvalThresholdMinor)) {
      await updateBatch(trx, batchId, ['validating'], { ...counts, status: 'awaiting_approval' });
      return (await loadBatch(trx, batchId))!;
    }
    await updateBatch(trx, batchId, ['validating'], counts);
    const validated: Batch = { ...current, ...counts };
    const release = await releaseBatch(trx, validated, 'validating');
    if (!release.released) {
      await updateBatch(trx, batchId, ['validating'], { status: 'rejected', rejectionCode: 'insufficient_funds', rejectionReason: `program ${program.code} has not enough budget left for this batch`, completedAt: new Date(), milestone: 100 });
    }
    return (await loadBatch(trx, batchId))!;
  });
  if (!decided) return;
  if (decided.status === 'scheduled') await queueExecution(context, decided);
  await notifyBatch(context, decided, 'validated');
}

function verdictOf(context: Pick<ServiceContext, 'rails'>, program: Program, row: PendingRow, beneficiaries: ReadonlyMap<string, Beneficiary>): RowVerdict {
  let payee: Party;
  if (row.payee) {
    payee = row.payee;
  } else {
    const beneficiary = row.payeeIdentity === null ? undefined : beneficiaries.get(row.payeeIdentity);
    if (!beneficiary) return { rowNumber: row.rowNumber, status: 'invalid', reasonCode: 'unknown_beneficiary', reason: ROW_REASONS.unknown_beneficiary };
    const mapped = payeePartyOf(beneficiary);
    if (!('party' in mapped)) return { rowNumber: row.rowNumber, status: 'invalid', reasonCode: 'modality_not_payable', reason: mapped.reason };
    payee = mapped.party;
  }
  try {
    context.rails.route({ kind: 'benefit', payer: row.payer ?? program.fundingAccount, payee, currency: program.currency });
  } catch (error) {
    if (!(error instanceof NoRailRoute)) throw error;
    return { rowNumber: row.rowNumber, status: 'invalid', reasonCode: 'no_route', reason: error.message };
  }
  return { rowNumber: row.rowNumber, status: 'valid', payee };
}
