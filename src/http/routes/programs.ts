import { Router } from 'express';
import { notFound, ValidationError } from '../../domain/errors.ts';
import { parseMoney } from '../../domain/money.ts';
import { findProgram, listPrograms } from '../../db/repositories/programs.ts';
import type { Database } from '../../db/knex.ts';
import { createProgram } from '../../services/create-program.ts';
import { presentProgram } from '../../services/present-program.ts';
import { callerOf, requireScope } from '../middleware/authenticate.ts';
import { idempotent } from '../middleware/idempotency.ts';
import { parseRequest } from '../middleware/validate.ts';
import { idParamOf, originOf } from '../request-parts.ts';
import { createProgramSchema } from '../schemas.ts';

/** Zero is a valid threshold (every batch needs approval), not a valid payment: parsed apart from parseMoney's rule. */
function minorUnits(text: string, currency: string, field: string): bigint {
  if (/^0(\.0+)?$/.test(text)) return 0n;
  const parsed = parseMoney(text, currency);
  if (!parsed.ok) throw new ValidationError([{ field, reason: parsed.reason }]);
  return parsed.money.minor;
}

export function programsRouter(db: Database): Router {
  const router = Router();
  router.get('/', requireScope('orders:read'), async (_req, res) => {
    res.json({ data: (await listPrograms(db, callerOf(res).organisationId)).map(presentProgram) });
  });
  router.get('/:id', requireScope('orders:read'), async (req, res) => {
    const program = await findProgram(db, callerOf(res).organisationId, idParamOf(req));
    if (!program) throw notFound(`program ${req.params.id}`);
    res.json(presentProgram(program));
  });
  router.post('/', requireScope('admin'), async (req, res) => {
    await idempotent(db, req, res, async () => {
      const body = parseRequest(createProgramSchema, req.body, 'body');
      const caller = callerOf(res);
      const origin = originOf(req, res);
      const program = await createProgram(db, caller.organisationId, {
        code: body.code, name: body.name, currency: body.currency, fundingAccount: body.funding_account,
        budgetMinor: minorUnits(body.budget, body.currency, 'body.budget'),
        approvalThresholdMinor: minorUnits(body.approval_threshold, body.currency, 'body.approval_threshold'),
        isDefault: body.default,
      }, { clientId: caller.clientId, actor: caller.clientName, sourceIp: origin.sourceIp, requestId: origin.requestId });
      return { status: 201, body: presentProgram(program) };
    });
  });
  return router;
}
