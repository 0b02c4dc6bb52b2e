import type { Caller, RequestOrigin } from '../domain/caller.ts';
import { conflict, notFound } from '../domain/errors.ts';
import { canResolve } from '../domain/reconciliation.ts';
import { appendAudit } from '../db/repositories/audit-log.ts';
import { findException, resolveException as resolve, type ReconciliationException } from '../db/repositories/reconciliation.ts';
import type { ServiceContext } from './context.ts';
import { exceptionsHandledBy } from './exception-handler-scope.ts';

/** Closes an exception with the reason treasury gives; it is never reopened or deleted. Audited. */
export async function resolveException(context: Pick<ServiceContext, 'db'>, caller: Caller, origin: RequestOrigin, id: string, reason: string): Promise<ReconciliationException> {
  const organisationId = exceptionsHandledBy(caller);
  return context.db.transaction(async (trx) => {
    const current = await findException(trx, id, organisationId);
    if (!current) throw notFound(`reconciliation exception ${id}`);
    if (!canResolve(current.status)) throw conflict('exception_resolved', `exception ${id} is already resolved (${current.resolution ?? ''})`);
    const resolved = await resolve(trx, id, { reason, by: caller.clientName });
    if (!resolved) throw conflict('exception_resolved', `exception ${id} was resolved meanwhile`);
    await appendAudit(trx, {
      organisationId: caller.organisationId, clientId: caller.clientId, actor: caller.clientName, action: 'reconciliation.exception.resolve', target: id,
      sourceIp: origin.sourceIp, requestId: origin.requestId,
      detail: { reason, type: current.type, order_id: current.orderId, assignee: current.assignee, exception_organisation_id: current.organisationId },
    });
    return resolved;
  });
}
