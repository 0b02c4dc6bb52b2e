import { Router } from 'express';
import { notFound } from '../../domain/errors.ts';
import { parseSerialNumber } from '../../domain/voucher.ts';
import type { ServiceContext } from '../../services/context.ts';
import { payVoucherAgain } from '../../services/pay-voucher-again.ts';
import { callerOf, requireScope } from '../middleware/authenticate.ts';
import { idempotent } from '../middleware/idempotency.ts';
import { originOf } from '../request-parts.ts';

/** Kassa's own voucher calls, beside GovStack's: paying a merchant again whose payout was not paid. */
export function voucherPayoutsRouter(context: Pick<ServiceContext, 'db' | 'rails'>): Router {
  const router = Router();
  router.post('/:serialNumber/payouts', requireScope('benefits:write'), async (req, res) => {
    await idempotent(context.db, req, res, async () => {
      const serialNumber = parseSerialNumber(String(req.params.serialNumber));
      if (serialNumber === undefined) throw notFound(`voucher ${String(req.params.serialNumber)}`);
      const repaid = await payVoucherAgain(context, callerOf(res), originOf(req, res), serialNumber);
      return { status: 201, body: { serial_number: repaid.serialNumber.toString(), order_id: repaid.orderId, previous_order_id: repaid.previousOrderId } };
    });
  });
  return router;
}
