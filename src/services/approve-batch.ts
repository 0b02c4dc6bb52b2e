import type { Caller, RequestOrigin } from '../domain/caller.ts';
import { conflict, notFound, ProblemError } from '../domain/errors.ts';
import { grants } from '../domain/scopes.ts';
import { appendAudit } from '../db/repositories/audit-log.ts';
import { findBatch, loadBatch, type Batch } from '../db/repositories/batches.ts';
import type { ServiceContext } from './context.ts';
import { queueExecution, releaseBatch } from './release-batch.ts';

/**
 * The checker's half of maker–checker: a second credential, holding `benefits:approve`, releases the batch.
 * Its total is blocked on the program's budget at that moment; without the funds, nothing changes.
 */
export async function approveBatch(context: Pick<ServiceContext, 'db' | 'queues'>, caller: Caller, origin: RequestOrigin, batchId: string): Promise<Batch> {
  if (!grants(caller.scopes, 'benefits:approve')) throw new ProblemError(403, 'insufficient_scope', 'Forbidden', 'approving a batch needs the benefits:approve scope');
  const approved = await context.db.transaction(async (trx) => {
    const batch = await findBatch(trx, caller.organisationId, batchId);
    if (!batch) throw notFound(`batch ${batchId}`);
    const locked = (await loadBatch(trx, batchId, { forUpdate: true }))!;
    if (locked.status !== 'awaiting_approval') throw conflict('batch_not_awaiting_approval', `the batch is ${locked.status}; only a batch awaiting approval can be approved`);
    if (locked.createdBy === caller.clientId) {
      throw new ProblemError(403, 'maker_checker', 'Forbidden', 'a batch must be approved by another credential than the one that submitted it');
    }
    const release = await releaseBatch(trx, locked, 'awaiting_approval', { by: caller.clientId });
    if (!release.released) throw conflict('insufficient_funds', `the program's budget left does not cover the batch total`);
    await appendAudit(trx, {
      organisationId: caller.organisationId, clientId: caller.clientId, actor: caller.clientName, action: 'batch.approve', target: batchId,
      sourceIp: origin.sourceIp, requestId: origin.requestId, detail: { valid_total_minor: locked.validTotalMinor.toString(), payments: locked.validCount },
    });
    return (await loadBatch(trx, batchId))!;
  });
  await queueExecution(context, approved);
  return approved;
}
