import { Router } from 'express';
import { findWebhookEndpoint } from '../../db/repositories/webhooks.ts';
import type { Database } from '../../db/knex.ts';
import { configureWebhookEndpoint } from '../../services/set-webhook-endpoint.ts';
import { callerOf, requireScope } from '../middleware/authenticate.ts';
import { idempotent } from '../middleware/idempotency.ts';
import { parseRequest } from '../middleware/validate.ts';
import { webhookEndpointSchema } from '../schemas.ts';
import { originOf } from '../request-parts.ts';

export function webhookEndpointRouter(db: Database): Router {
  const router = Router();
  router.use(requireScope('admin'));
  router.get('/', async (_req, res) => {
    const endpoint = await findWebhookEndpoint(db, callerOf(res).organisationId);
    res.json({ url: endpoint?.url ?? null });
  });
  router.post('/', async (req, res) => {
    await idempotent(db, req, res, async () => {
      const body = parseRequest(webhookEndpointSchema, req.body, 'body');
      const configured = await configureWebhookEndpoint(db, callerOf(res), originOf(req, res), body.url);
      return { status: 200, body: configured, replayBody: { url: configured.url, secret: null, secret_note: 'shown only in the first answer' } };
    });
  });
  return router;
}
