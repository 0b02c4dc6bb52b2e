import express, { Router } from 'express';
import type { ServiceContext } from '../../services/context.ts';
import { voucherRedemption } from '../../services/redeem-voucher.ts';
import { authenticate } from '../middleware/authenticate.ts';
import { rateLimitPerCredential } from '../middleware/rate-limit.ts';
import { govStackLegacyVouchersRouter } from './govstack-legacy-vouchers.ts';
import { govStackVouchersRouter } from './govstack-vouchers.ts';
import { merchantsRouter } from './merchants.ts';
import { voucherGroupsRouter } from './voucher-groups.ts';
import { voucherPayoutsRouter } from './voucher-payouts.ts';

/**
 * Everything about vouchers: the registries of voucher groups and merchants and the payouts paid again (/v1, Kassa's own API) and the voucher
 * calls of both GovStack API generations, which share one redemption pipeline. Each path brings its own guards, so
 * requests for other paths pass through untouched.
 */
export function vouchersRouter(context: ServiceContext): Router {
  const router = Router();
  const v1Guards = [
    authenticate(context.db, context.config.AUTH_CACHE_TTL_MS),
    rateLimitPerCredential(context.config.RATE_LIMIT_PER_MINUTE),
    express.json({ limit: '1mb', strict: true }),
  ];
  router.use('/v1/voucher-groups', ...v1Guards, voucherGroupsRouter(context.db));
  router.use('/v1/merchants', ...v1Guards, merchantsRouter(context.db));
  router.use('/v1/vouchers', ...v1Guards, voucherPayoutsRouter(context));
  const redeem = voucherRedemption(context);
  router.use(govStackLegacyVouchersRouter(context, redeem));
  router.use(govStackVouchersRouter(context, redeem));
  return router;
}
