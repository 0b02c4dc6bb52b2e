import { Router } from 'express';
import { notFound } from '../../domain/errors.ts';
import { findPayerInstitution, listPayerInstitutions } from '../../db/repositories/payer-institutions.ts';
import type { Database } from '../../db/knex.ts';
import { presentPayerInstitution } from '../../services/present-payer-institution.ts';
import { registerPayerInstitution } from '../../services/register-payer-institution.ts';
import { callerOf, requireScope } from '../middleware/authenticate.ts';
import { idempotent } from '../middleware/idempotency.ts';
import { parseRequest } from '../middleware/validate.ts';
import { registerPayerInstitutionSchema } from '../p2g-schemas.ts';
import { idParamOf, originOf } from '../request-parts.ts';

/** The organisation's payer institutions: banks and wallets that pay bills for their customers through Kassa. */
export function payerInstitutionsRouter(db: Database): Router {
  const router = Router();
  router.get('/', requireScope('orders:read'), async (_req, res) => {
    res.json({ data: (await listPayerInstitutions(db, callerOf(res).organisationId)).map(presentPayerInstitution) });
  });
  router.get('/:id', requireScope('orders:read'), async (req, res) => {
    const institution = await findPayerInstitution(db, callerOf(res).organisationId, idParamOf(req));
    if (!institution) throw notFound(`payer institution ${req.params.id}`);
    res.json(presentPayerInstitution(institution));
  });
  router.post('/', requireScope('admin'), async (req, res) => {
    await idempotent(db, req, res, async () => {
      const body = parseRequest(registerPayerInstitutionSchema, req.body, 'body');
      const caller = callerOf(res);
      const origin = originOf(req, res);
      const institution = await registerPayerInstitution(db, caller.organisationId, {
        code: body.code, name: body.name, settlementAccount: body.settlement_account, rtpUrl: body.rtp_url ?? null,
      }, { clientId: caller.clientId, actor: caller.clientName, sourceIp: origin.sourceIp, requestId: origin.requestId });
      return { status: 201, body: presentPayerInstitution(institution) };
    });
  });
  return router;
}
