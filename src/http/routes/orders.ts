import { Router } from 'express';
import { notFound } from '../../domain/errors.ts';
import { findOrder, listEvents, listOrders } from '../../db/repositories/orders.ts';
import { cancelOrder } from '../../services/cancel-order.ts';
import type { ServiceContext } from '../../services/context.ts';
import { presentOrder } from '../../services/present-order.ts';
import { callerOf, requireScope } from '../middleware/authenticate.ts';
import { idempotent } from '../middleware/idempotency.ts';
import { parseRequest } from '../middleware/validate.ts';
import { idParamOf, originOf } from '../request-parts.ts';
import { listOrdersQuerySchema } from '../schemas.ts';
import { decodeCursor, encodeCursor } from '../cursor.ts';

export function ordersRouter(context: ServiceContext): Router {
  const router = Router();

  router.get('/', requireScope('orders:read'), async (req, res) => {
    const query = parseRequest(listOrdersQuerySchema, req.query, 'query');
    const orders = await listOrders(context.db, {
      organisationId: callerOf(res).organisationId,
      kind: query.kind,
      status: query.status,
      createdFrom: query.created_from ? new Date(query.created_from) : undefined,
      createdTo: query.created_to ? new Date(query.created_to) : undefined,
      after: query.cursor ? decodeCursor(query.cursor) : undefined,
      limit: query.limit,
    });
    const last = orders.at(-1);
    res.json({ data: orders.map((order) => presentOrder(order)), next_cursor: orders.length === query.limit && last ? encodeCursor(last) : null });
  });

  router.get('/:id', requireScope('orders:read'), async (req, res) => {
    const id = idParamOf(req);
    const order = await findOrder(context.db, callerOf(res).organisationId, id);
    if (!order) throw notFound(`order ${id}`);
    res.json(presentOrder(order, await listEvents(context.db, id)));
  });

  router.post('/:id/cancel', async (req, res) => {
    const id = idParamOf(req);
    await idempotent(context.db, req, res, async () => ({ status: 200, body: await cancelOrder(context, callerOf(res), originOf(req, res), id) }));
  });

  return router;
}
