import type { Caller, RequestOrigin } from '../domain/caller.ts';
import { conflict, notFound, ProblemError } from '../domain/errors.ts';
import { scopeToWrite } from '../domain/order.ts';
import { grants } from '../domain/scopes.ts';
import { appendAudit } from '../db/repositories/audit-log.ts';
import { findOrder, listEvents, transitionOrders } from '../db/repositories/orders.ts';
import type { ServiceContext } from './context.ts';
import { presentOrder } from './present-order.ts';
import { countTransitions, webhooksOf } from './record-rail-outcomes.ts';

/** Cancels an order that no rail has seen yet; once it is submitted, only the rail can decide its fate. */
export async function cancelOrder(context: Pick<ServiceContext, 'db' | 'queues' | 'metrics'>, caller: Caller, origin: RequestOrigin, orderId: string) {
  const order = await findOrder(context.db, caller.organisationId, orderId);
  if (!order) throw notFound(`order ${orderId}`);
  if (!grants(caller.scopes, scopeToWrite(order.kind))) {
    throw new ProblemError(403, 'insufficient_scope', 'Forbidden', `cancelling a ${order.kind} order needs the ${scopeToWrite(order.kind)} scope`);
  }
  const changed = await context.db.transaction(async (trx) => {
    const moved = await transitionOrders(trx, 'cancelled', [{ id: orderId, detail: { by: caller.clientName } }]);
    if (moved.length === 1) {
      await appendAudit(trx, {
        organisationId: caller.organisationId, clientId: caller.clientId, actor: caller.clientName, action: 'order.cancel',
        target: orderId, sourceIp: origin.sourceIp, requestId: origin.requestId,
      });
    }
    return moved;
  });
  if (changed.length === 0) {
    const current = await findOrder(context.db, caller.organisationId, orderId);
    throw conflict('order_not_cancellable', `the order is ${current?.status ?? order.status}; only an order not yet submitted to a rail can be cancelled`);
  }
  countTransitions(context, changed);
  await context.queues.deliverWebhooks(webhooksOf(changed));
  const [cancelled] = changed;
  return presentOrder(cancelled!.order, await listEvents(context.db, orderId));
}
