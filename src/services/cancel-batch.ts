import type { Caller, RequestOrigin } from '../domain/caller.ts';
import { CANCELLABLE_BATCH_STATUSES, ROW_REASONS } from '../domain/batch.ts';
import { conflict, notFound, ProblemError } from '../domain/errors.ts';
import { grants } from '../domain/scopes.ts';
import { appendAudit } from '../db/repositories/audit-log.ts';
import { cancelValidRows } from '../db/repositories/batch-rows.ts';
import { findBatch, loadBatch, updateBatch, type Batch } from '../db/repositories/batches.ts';
import { findBatchOrderIds, transitionOrders } from '../db/repositories/orders.ts';
import type { ServiceContext } from './context.ts';
import { settleBatchFunds } from './program-funds.ts';
import { countTransitions } from './record-rail-outcomes.ts';

const ORDERS_PER_STATEMENT = 5000;

/**
 * Cancels what has not been sent: rows not yet turned into payments, and payments no rail has seen. What a rail
 * already holds runs to its end; the batch becomes `cancelled` when it has, and its block on the budget is
 * released as the monitor settles it.
 */
export async function cancelBatch(context: Pick<ServiceContext, 'db' | 'metrics'>, caller: Caller, origin: RequestOrigin, batchId: string): Promise<Batch> {
  if (!grants(caller.scopes, 'benefits:write') && !grants(caller.scopes, 'benefits:approve')) {
    throw new ProblemError(403, 'insufficient_scope', 'Forbidden', 'cancelling a batch needs the benefits:write or benefits:approve scope');
  }
  return context.db.transaction(async (trx) => {
    if (!(await findBatch(trx, caller.organisationId, batchId))) throw notFound(`batch ${batchId}`);
    const batch = (await loadBatch(trx, batchId, { forUpdate: true }))!;
    if (!CANCELLABLE_BATCH_STATUSES.includes(batch.status) || batch.cancelRequestedAt) {
      throw conflict('batch_not_cancellable', `the batch is ${batch.status}${batch.cancelRequestedAt ? ' and its cancel is under way' : ''}`);
    }
    const now = new Date();
    await cancelValidRows(trx, batchId, ROW_REASONS.batch_cancelled);
    if (batch.status === 'processing') {
      await updateBatch(trx, batchId, ['processing'], { cancelRequestedAt: now });
      const unsent = await findBatchOrderIds(trx, batchId, ['received', 'queued']);
      for (let start = 0; start < unsent.length; start += ORDERS_PER_STATEMENT) {
        const changed = await transitionOrders(trx, 'cancelled', unsent.slice(start, start + ORDERS_PER_STATEMENT).map((id) => ({ id, detail: { batch_cancelled_by: caller.clientName } })));
        countTransitions(context, changed);
      }
    } else {
      // Nothing was sent: whatever the batch blocked goes back to the program at once.
      await settleBatchFunds(trx, batch, 0n, batch.reservedMinor);
      await updateBatch(trx, batchId, [batch.status], { status: 'cancelled', cancelRequestedAt: now, completedAt: now, reservedMinor: 0n });
    }
    await appendAudit(trx, {
      organisationId: caller.organisationId, clientId: caller.clientId, actor: caller.clientName, action: 'batch.cancel', target: batchId,
      sourceIp: origin.sourceIp, requestId: origin.requestId, detail: { status: batch.status },
    });
    return (await loadBatch(trx, batchId))!;
  });
}
