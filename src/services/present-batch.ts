import type { Batch } from '../db/repositories/batches.ts';
import type { OutcomeTotals } from '../db/repositories/batch-rows.ts';
import { FINAL_BATCH_STATUSES } from '../domain/batch.ts';
import { formatMoney } from '../domain/money.ts';
import type { BatchProgress } from './batch-progress.ts';

const totalsOf = (totals: OutcomeTotals, currency: string) => ({ count: totals.count, amount: formatMoney({ minor: totals.amountMinor, currency }) });

/** Kassa's own shape of a batch: envelope, validation, approval, funds and where every payment stands. */
export function presentBatch(batch: Batch, progress: BatchProgress) {
  const money = (minor: bigint) => formatMoney({ minor, currency: batch.currency });
  return {
    id: batch.id,
    status: batch.status,
    api: batch.api,
    correlation_id: batch.correlationId,
    reference: batch.reference,
    program_id: batch.programId,
    currency: batch.currency,
    validate_only: batch.validateOnly,
    control: { count: batch.declaredCount, totals: batch.declaredTotals },
    rows: batch.rowCount,
    validation: { valid: batch.validCount, invalid: batch.invalidCount, valid_total: money(batch.validTotalMinor) },
    funds: { blocked: money(batch.reservedMinor), disbursed: money(batch.disbursedMinor) },
    payments: {
      completed: totalsOf(progress.completed, batch.currency),
      failed: totalsOf(progress.failed, batch.currency),
      cancelled: totalsOf(progress.cancelled, batch.currency),
      in_progress: totalsOf(progress.inProgress, batch.currency),
      not_sent: totalsOf(progress.notSent, batch.currency),
    },
    approval: batch.approvedBy ? { approved_by: batch.approvedBy, approved_at: batch.approvedAt?.toISOString() ?? null } : null,
    rejection: batch.rejectionCode ? { code: batch.rejectionCode, reason: batch.rejectionReason } : null,
    execute_at: batch.executeAt?.toISOString() ?? null,
    callback_url: batch.callbackUrl,
    created_at: batch.createdAt.toISOString(),
    updated_at: batch.updatedAt.toISOString(),
    completed_at: batch.completedAt?.toISOString() ?? null,
  };
}

export type PresentedBatch = ReturnType<typeof presentBatch>;

/**
 * GovStack's batch status (BulkPaymentStatusUpdate): the summary `GET /api/v1/batch` answers and the
 * callbacks push. The specification carries amounts as JSON numbers; they are printed from exact minor units.
 */
export function presentGovStackBatchStatus(batch: Batch, progress: BatchProgress) {
  const amount = (minor: bigint) => Number(formatMoney({ minor, currency: batch.currency }));
  // Valid rows of a batch that ended unpaid (rejected for want of funds) will never be paid: they count as failed.
  const stranded = FINAL_BATCH_STATUSES.includes(batch.status) && !batch.validateOnly ? progress.notSent : { count: 0, amountMinor: 0n };
  const failed = progress.failed.count + progress.cancelled.count + batch.invalidCount + stranded.count;
  return {
    requestId: batch.correlationId,
    batchId: batch.id,
    TotalTransactions: batch.rowCount,
    // What is neither completed nor failed, so the three always add up to the total, during validation too.
    ongoing: batch.rowCount - progress.completed.count - failed,
    failed,
    completed: progress.completed.count,
    totalAmount: amount(batch.validTotalMinor),
    completed_amount: amount(progress.completed.amountMinor),
    ongoing_amount: amount(progress.inProgress.amountMinor + progress.notSent.amountMinor - stranded.amountMinor),
    failed_amount: amount(progress.failed.amountMinor + progress.cancelled.amountMinor + stranded.amountMinor),
    result_file: null,
    resultGeneratedAt: new Date().toISOString(),
    note: batch.rejectionReason ?? `batch ${batch.status}`,
  };
}
