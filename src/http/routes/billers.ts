import { Router } from 'express';
import { notFound } from '../../domain/errors.ts';
import { findBiller, listBillers } from '../../db/repositories/billers.ts';
import type { Database } from '../../db/knex.ts';
import { presentBiller } from '../../services/present-biller.ts';
import { registerBiller } from '../../services/register-biller.ts';
import { callerOf, requireScope } from '../middleware/authenticate.ts';
import { idempotent } from '../middleware/idempotency.ts';
import { parseRequest } from '../middleware/validate.ts';
import { registerBillerSchema } from '../p2g-schemas.ts';
import { idParamOf, originOf } from '../request-parts.ts';

/** The organisation's billers: government agencies whose bills payer institutions pay through Kassa. */
export function billersRouter(db: Database): Router {
  const router = Router();
  router.get('/', requireScope('orders:read'), async (_req, res) => {
    res.json({ data: (await listBillers(db, callerOf(res).organisationId)).map(presentBiller) });
  });
  router.get('/:id', requireScope('orders:read'), async (req, res) => {
    const biller = await findBiller(db, callerOf(res).organisationId, idParamOf(req));
    if (!biller) throw notFound(`biller ${req.params.id}`);
    res.json(presentBiller(biller));
  });
  router.post('/', requireScope('admin'), async (req, res) => {
    await idempotent(db, req, res, async () => {
      const body = parseRequest(registerBillerSchema, req.body, 'body');
      const caller = callerOf(res);
      const origin = originOf(req, res);
      const biller = await registerBiller(db, caller.organisationId, {
        code: body.code, name: body.name, currency: body.currency, account: body.account, billSourceUrl: body.bill_source_url, prefixes: body.prefixes,
      }, { clientId: caller.clientId, actor: caller.clientName, sourceIp: origin.sourceIp, requestId: origin.requestId });
      return { status: 201, body: presentBiller(biller) };
    });
  });
  return router;
}
