import express, { Router } from 'express';
import type { ServiceContext } from '../../services/context.ts';
import { authenticate } from '../middleware/authenticate.ts';
import { rateLimitPerCredential } from '../middleware/rate-limit.ts';
import { billersRouter } from './billers.ts';
import { billsRouter } from './bills.ts';
import { payerInstitutionsRouter } from './payer-institutions.ts';
import { transferRequestsRouter } from './transfer-requests.ts';

/**
 * Bill payments (GovStack P2G) in one router: Kassa's admin resources for billers and payer institutions, with the
 * guards of every /v1 resource, and GovStack's P2G paths at the root, whose routes each carry their own.
 */
export function billPaymentsRouter(context: ServiceContext): Router {
  const router = Router();
  const v1 = [authenticate(context.db, context.config.AUTH_CACHE_TTL_MS), rateLimitPerCredential(context.config.RATE_LIMIT_PER_MINUTE), express.json({ limit: '1mb', strict: true })];
  router.use('/v1/billers', ...v1, billersRouter(context.db));
  router.use('/v1/payer-institutions', ...v1, payerInstitutionsRouter(context.db));
  router.use(billsRouter(context));
  router.use(transferRequestsRouter(context));
  return router;
}
