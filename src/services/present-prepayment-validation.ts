import { listBatchRows } from '../db/repositories/batch-rows.ts';
import type { Batch } from '../db/repositories/batches.ts';
import type { Database } from '../db/knex.ts';

const PAGE = 1000;

/**
 * GovStack's Prepayment_Validation_Response (chapter 9.1.2): the source's batch and every instruction that failed
 * validation, with its reason code and text. Pushed to the batch's callback once validation ends, and answered by
 * the legacy `/prepayment-validation-response`, whose compliance tests read RequestID, Source_BatchID,
 * NumberFailedCases and FailedAccounts [{InstructionID, FailureReason}]. `ValidationStatus` (Kassa's addition)
 * says whether the list is final: while validation runs it holds only the rows refused on intake.
 */
export async function presentPrepaymentValidation(db: Database, batch: Batch) {
  const failed: { InstructionID: string; FailureReason: string }[] = [];
  for (let after = 0; ;) {
    const rows = await listBatchRows(db, batch.id, { outcome: 'invalid', afterRow: after, limit: PAGE });
    for (const row of rows) failed.push({ InstructionID: row.instructionId, FailureReason: `${row.reasonCode ?? 'invalid'}: ${row.reason ?? ''}`.trim() });
    if (rows.length < PAGE) break;
    after = rows.at(-1)!.rowNumber;
  }
  return {
    RequestID: batch.correlationId,
    Source_BatchID: batch.reference ?? '',
    ValidationStatus: batch.status === 'validating' ? 'IN_PROGRESS' : 'COMPLETED',
    NumberFailedCases: failed.length,
    FailedAccounts: failed,
  };
}
