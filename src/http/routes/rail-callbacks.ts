import express, { Router } from 'express';
import { RailCallbackRejected } from '../../../adapters/contract.ts';
import { ProblemError } from '../../domain/errors.ts';
import { acceptRailCallback } from '../../services/accept-rail-callback.ts';
import type { ServiceContext } from '../../services/context.ts';

/**
 * Where rails push outcomes. No bearer key: each rail's adapter verifies the rail's own signature on the raw
 * bytes, and anything it rejects changes nothing.
 */
export function railCallbacksRouter(context: ServiceContext): Router {
  const router = Router();
  // GSMA operators call back with PUT, banks and card schemes with POST.
  router.route('/:rail/callbacks').post(express.raw({ type: () => true, limit: '1mb' }), accept).put(express.raw({ type: () => true, limit: '1mb' }), accept);
  return router;

  async function accept(req: express.Request, res: express.Response): Promise<void> {
    const rail = String(req.params.rail);
    const rawBody = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    try {
      const result = await acceptRailCallback(context, rail, { headers: req.headers, rawBody });
      res.json({ received: result.notifications, applied: result.applied });
    } catch (error) {
      if (!(error instanceof RailCallbackRejected)) throw error;
      context.logger.warn({ rail, requestId: res.locals.requestId, reason: error.message }, 'rail callback rejected');
      throw new ProblemError(401, 'callback_rejected', 'Callback rejected', error.message);
    }
  }
}
