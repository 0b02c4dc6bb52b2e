import type { Caller, RequestOrigin } from '../domain/caller.ts';
import { conflict, notFound } from '../domain/errors.ts';
import { canAssign } from '../domain/reconciliation.ts';
import { appendAudit } from '../db/repositories/audit-log.ts';
import { assignException as assign, findException, type ReconciliationException } from '../db/repositories/reconciliation.ts';
import type { ServiceContext } from './context.ts';
import { exceptionsHandledBy } from './exception-handler-scope.ts';

/** Hands an exception to someone to look into (again, to re-assign it); a resolved one stays resolved. Audited. */
export async function assignException(context: Pick<ServiceContext, 'db'>, caller: Caller, origin: RequestOrigin, id: string, assignee: string): Promise<ReconciliationException> {
  const organisationId = exceptionsHandledBy(caller);
  return context.db.transaction(async (trx) => {
    const current = await findException(trx, id, organisationId);
    if (!current) throw notFound(`reconciliation exception ${id}`);
    if (!canAssign(current.status)) throw conflict('exception_resolved', `exception ${id} was resolved (${current.resolution ?? ''}); it cannot be assigned`);
    const assigned = await assign(trx, id, assignee);
    if (!assigned) throw conflict('exception_resolved', `exception ${id} was resolved meanwhile; it cannot be assigned`);
    await appendAudit(trx, {
      organisationId: caller.organisationId, clientId: caller.clientId, actor: caller.clientName, action: 'reconciliation.exception.assign', target: id,
      sourceIp: origin.sourceIp, requestId: origin.requestId,
      detail: { assignee, previous_assignee: current.assignee, type: current.type, order_id: current.orderId, exception_organisation_id: current.organisationId },
    });
    return assigned;
  });
}
