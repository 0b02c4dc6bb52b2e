import { Router } from 'express';
import { listMerchants, type Merchant } from '../../db/repositories/merchants.ts';
import type { Database } from '../../db/knex.ts';
import { registerMerchant } from '../../services/register-merchant.ts';
import { callerOf, requireScope } from '../middleware/authenticate.ts';
import { idempotent } from '../middleware/idempotency.ts';
import { parseRequest } from '../middleware/validate.ts';
import { originOf } from '../request-parts.ts';
import { registerMerchantSchema } from '../voucher-schemas.ts';

function presentMerchant(merchant: Merchant) {
  return {
    id: merchant.id, code: merchant.code, name: merchant.name, kind: merchant.kind, account: merchant.account,
    voucher_groups: merchant.voucherGroups, has_credential: merchant.apiClientId !== null, biller_id: merchant.billerId, created_at: merchant.createdAt.toISOString(),
  };
}

/** Merchants and cash-out agents that redeem the organisation's vouchers, and the accounts they are paid at. */
export function merchantsRouter(db: Database): Router {
  const router = Router();
  router.get('/', requireScope('orders:read'), async (_req, res) => {
    res.json({ data: (await listMerchants(db, callerOf(res).organisationId)).map(presentMerchant) });
  });
  router.post('/', requireScope('admin'), async (req, res) => {
    await idempotent(db, req, res, async () => {
      const body = parseRequest(registerMerchantSchema, req.body, 'body');
      const registered = await registerMerchant(db, callerOf(res), originOf(req, res), {
        code: body.code, name: body.name, kind: body.kind, account: body.account, voucherGroups: body.voucher_groups ?? null, credential: body.credential, biller: body.biller,
      });
      const merchant = presentMerchant(registered.merchant);
      if (registered.apiKey === null) return { status: 201, body: merchant };
      return { status: 201, body: { ...merchant, api_key: registered.apiKey }, replayBody: { ...merchant, api_key: null, api_key_note: 'shown only in the first answer' } };
    });
  });
  return router;
}
