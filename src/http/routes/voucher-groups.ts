import { Router } from 'express';
import { parseDuration, formatDuration } from '../../domain/duration.ts';
import { listVoucherGroups, type VoucherGroup } from '../../db/repositories/voucher-groups.ts';
import type { Database } from '../../db/knex.ts';
import { createVoucherGroup } from '../../services/create-voucher-group.ts';
import { callerOf, requireScope } from '../middleware/authenticate.ts';
import { idempotent } from '../middleware/idempotency.ts';
import { parseRequest } from '../middleware/validate.ts';
import { originOf } from '../request-parts.ts';
import { createVoucherGroupSchema } from '../voucher-schemas.ts';

function presentVoucherGroup(group: VoucherGroup) {
  return {
    id: group.id, code: group.code, name: group.name, program: group.programCode, currency: group.currency,
    validity: formatDuration(group.validitySeconds), created_at: group.createdAt.toISOString(),
  };
}

/** Voucher groups of the caller's organisation: which program funds them, how long their vouchers stay valid. */
export function voucherGroupsRouter(db: Database): Router {
  const router = Router();
  router.get('/', requireScope('orders:read'), async (_req, res) => {
    res.json({ data: (await listVoucherGroups(db, callerOf(res).organisationId)).map(presentVoucherGroup) });
  });
  router.post('/', requireScope('admin'), async (req, res) => {
    await idempotent(db, req, res, async () => {
      const body = parseRequest(createVoucherGroupSchema, req.body, 'body');
      const group = await createVoucherGroup(db, callerOf(res), originOf(req, res), {
        code: body.code, name: body.name, programCode: body.program, validitySeconds: parseDuration(body.validity)!,
      });
      return { status: 201, body: presentVoucherGroup(group) };
    });
  });
  return router;
}
