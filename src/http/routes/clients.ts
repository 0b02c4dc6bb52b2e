import { Router } from 'express';
import { notFound, ValidationError } from '../../domain/errors.ts';
import { grants } from '../../domain/scopes.ts';
import { appendAudit } from '../../db/repositories/audit-log.ts';
import { listClients, revokeClient } from '../../db/repositories/api-clients.ts';
import type { Database } from '../../db/knex.ts';
import { createApiClient } from '../../services/create-api-client.ts';
import { callerOf, requireScope } from '../middleware/authenticate.ts';
import { idempotent } from '../middleware/idempotency.ts';
import { parseRequest } from '../middleware/validate.ts';
import { createClientSchema } from '../schemas.ts';
import { idParamOf, originOf } from '../request-parts.ts';

/** Credentials of the caller's own organisation; the admin scope never reaches across organisations. */
export function clientsRouter(db: Database): Router {
  const router = Router();
  router.use(requireScope('admin'));

  router.get('/', async (_req, res) => {
    const clients = await listClients(db, callerOf(res).organisationId);
    res.json({ data: clients.map((c) => ({ id: c.id, name: c.name, key_prefix: c.keyPrefix, scopes: c.scopes, revoked_at: c.revokedAt?.toISOString() ?? null })) });
  });

  router.post('/', async (req, res) => {
    await idempotent(db, req, res, async () => {
      const body = parseRequest(createClientSchema, req.body, 'body');
      const caller = callerOf(res);
      // An administrator hands out only what it holds itself: its organisation's scopes, never the treasury's.
      const beyond = body.scopes.filter((scope) => !grants(caller.scopes, scope));
      if (beyond.length > 0) throw new ValidationError([{ field: 'body.scopes', reason: `this credential cannot grant ${beyond.join(', ')}, which it does not hold` }]);
      const origin = originOf(req, res);
      const [self] = (await listClients(db, caller.organisationId)).filter((c) => c.id === caller.clientId);
      const created = await createApiClient(db, { organisation: self!.organisationName, name: body.name, scopes: body.scopes }, {
        clientId: caller.clientId, actor: caller.clientName, sourceIp: origin.sourceIp, requestId: origin.requestId,
      });
      const summary = { id: created.id, name: created.name, scopes: created.scopes };
      return { status: 201, body: { ...summary, api_key: created.apiKey }, replayBody: { ...summary, api_key: null, api_key_note: 'shown only in the first answer' } };
    });
  });

  router.post('/:id/revoke', async (req, res) => {
    const id = idParamOf(req);
    await idempotent(db, req, res, async () => {
      const caller = callerOf(res);
      const origin = originOf(req, res);
      const revoked = await db.transaction(async (trx) => {
        const done = await revokeClient(trx, caller.organisationId, id);
        if (done) {
          await appendAudit(trx, {
            organisationId: caller.organisationId, clientId: caller.clientId, actor: caller.clientName, action: 'api_client.revoke',
            target: id, sourceIp: origin.sourceIp, requestId: origin.requestId,
          });
        }
        return done;
      });
      if (!revoked) throw notFound(`active API client ${id}`);
      return { status: 200, body: { id, revoked: true } };
    });
  });
  return router;
}
