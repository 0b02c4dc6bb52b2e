import { Router } from 'express';
import { listAudit } from '../../db/repositories/audit-log.ts';
import type { Database } from '../../db/knex.ts';
import { callerOf, requireScope } from '../middleware/authenticate.ts';
import { parseRequest } from '../middleware/validate.ts';
import { listAuditQuerySchema } from '../schemas.ts';

export function auditRouter(db: Database): Router {
  const router = Router();
  router.get('/', requireScope('admin'), async (req, res) => {
    const query = parseRequest(listAuditQuerySchema, req.query, 'query');
    const records = await listAudit(db, {
      organisationId: callerOf(res).organisationId,
      from: query.from ? new Date(query.from) : undefined,
      to: query.to ? new Date(query.to) : undefined,
      actor: query.actor,
      action: query.action,
      afterId: query.cursor,
      limit: query.limit,
    });
    const last = records.at(-1);
    res.json({
      data: records.map((record) => ({
        id: record.id, at: record.at.toISOString(), actor: record.actor, client_id: record.clientId, action: record.action,
        target: record.target, source_ip: record.sourceIp, request_id: record.requestId, detail: record.detail,
      })),
      next_cursor: records.length === query.limit && last ? last.id : null,
    });
  });
  return router;
}
