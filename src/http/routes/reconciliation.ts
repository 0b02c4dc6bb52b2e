import { Router, type Response } from 'express';
import { notFound, ProblemError } from '../../domain/errors.ts';
import { grants } from '../../domain/scopes.ts';
import { addDays } from '../../domain/statement.ts';
import { findException, findRun, listExceptions, listRuns } from '../../db/repositories/reconciliation.ts';
import { findStatement } from '../../db/repositories/statements.ts';
import { assignException } from '../../services/assign-exception.ts';
import type { ServiceContext } from '../../services/context.ts';
import { presentException, presentRun, presentStatement } from '../../services/present-reconciliation.ts';
import { pullStatement } from '../../services/pull-statement.ts';
import { reconcileStatement } from '../../services/reconcile-statement.ts';
import { resolveException } from '../../services/resolve-exception.ts';
import { decodeCursor, encodeCursor } from '../cursor.ts';
import { callerOf, requireScope } from '../middleware/authenticate.ts';
import { idempotent } from '../middleware/idempotency.ts';
import { parseRequest } from '../middleware/validate.ts';
import { idParamOf, originOf } from '../request-parts.ts';
import { assignExceptionSchema, listExceptionsQuerySchema, listRunsQuerySchema, resolveExceptionSchema, startRunSchema } from '../reconciliation-schemas.ts';

/**
 * Reconciliation runs and their exceptions. Treasury (`treasury:read`) sees every organisation's exceptions
 * and the deployment's own (lines no order explains); an agency with `orders:read` sees its own
 * organisation's only. Starting runs is the treasury's act (`treasury:write`); assigning and resolving an
 * exception is the treasury's for any, and an organisation's administrator's for its own; each is in the audit log.
 */
export function reconciliationRouter(context: ServiceContext): Router {
  const router = Router();

  router.get('/exceptions', async (req, res) => {
    const organisationId = exceptionScope(res);
    const query = parseRequest(listExceptionsQuerySchema, req.query, 'query');
    const exceptions = await listExceptions(context.db, {
      organisationId, type: query.type, severity: query.severity, status: query.status, source: query.rail, runId: query.run_id,
      from: query.from ? new Date(query.from) : undefined, to: query.to ? new Date(query.to) : undefined,
      after: query.cursor ? decodeCursor(query.cursor) : undefined, limit: query.limit,
    });
    const last = exceptions.at(-1);
    res.json({ data: exceptions.map(presentException), next_cursor: exceptions.length === query.limit && last ? encodeCursor(last) : null });
  });

  router.get('/exceptions/:id', async (req, res) => {
    const organisationId = exceptionScope(res);
    const id = idParamOf(req);
    const exception = await findException(context.db, id, organisationId);
    if (!exception) throw notFound(`reconciliation exception ${id}`);
    res.json(presentException(exception));
  });

  router.post('/exceptions/:id/assign', async (req, res) => {
    const id = idParamOf(req);
    const body = parseRequest(assignExceptionSchema, req.body, 'body');
    await idempotent(context.db, req, res, async () => ({ status: 200, body: presentException(await assignException(context, callerOf(res), originOf(req, res), id, body.assignee)) }));
  });

  router.post('/exceptions/:id/resolve', async (req, res) => {
    const id = idParamOf(req);
    const body = parseRequest(resolveExceptionSchema, req.body, 'body');
    await idempotent(context.db, req, res, async () => ({ status: 200, body: presentException(await resolveException(context, callerOf(res), originOf(req, res), id, body.reason)) }));
  });

  router.get('/runs', requireScope('treasury:read'), async (req, res) => {
    const query = parseRequest(listRunsQuerySchema, req.query, 'query');
    const runs = await listRuns(context.db, { source: query.rail, statementId: query.statement_id, after: query.cursor ? decodeCursor(query.cursor) : undefined, limit: query.limit });
    const last = runs.at(-1);
    res.json({ data: runs.map(presentRun), next_cursor: runs.length === query.limit && last ? encodeCursor({ createdAt: last.startedAt, id: last.id }) : null });
  });

  router.get('/runs/:id', requireScope('treasury:read'), async (req, res) => {
    const id = idParamOf(req);
    const run = await findRun(context.db, id);
    if (!run) throw notFound(`reconciliation run ${id}`);
    res.json(presentRun(run));
  });

  /** `{ rail, date }` (or `from`/`to`): pull the rail's statement and reconcile it; `{ statement_id }`: reconcile a stored statement again. */
  router.post('/runs', requireScope('treasury:write'), async (req, res) => {
    const body = parseRequest(startRunSchema, req.body, 'body');
    const caller = callerOf(res);
    const starter = { name: caller.clientName, clientId: caller.clientId, organisationId: caller.organisationId };
    await idempotent(context.db, req, res, async () => {
      if ('statement_id' in body) {
        const statement = await findStatement(context.db, body.statement_id);
        if (!statement) throw notFound(`statement ${body.statement_id}`);
        const { run } = await reconcileStatement(context, statement, starter, originOf(req, res), 'rerun');
        return { status: 201, body: { statement: presentStatement(statement), duplicate: false, run: presentRun(run) } };
      }
      const from = body.date ?? body.from!;
      const to = body.date ?? body.to!;
      if (addDays(from, 31) < to) throw new ProblemError(422, 'validation_failed', 'The request is not valid', 'a pull covers at most 31 days', { errors: [{ field: 'body.from', reason: 'a pull covers at most 31 days' }] });
      const pulled = await pullStatement(context, starter, originOf(req, res), { rail: body.rail, from, to, trigger: 'pull' });
      return {
        status: pulled.duplicate ? 200 : 201,
        body: { statement: presentStatement(pulled.statement), duplicate: pulled.duplicate, run: pulled.reconciliation ? presentRun(pulled.reconciliation.run) : null },
      };
    });
  });
  return router;
}

/** Undefined: every organisation (treasury); else the caller's own organisation (an agency reading its exceptions). */
function exceptionScope(res: Response): string | undefined {
  const caller = callerOf(res);
  if (grants(caller.scopes, 'treasury:read')) return undefined;
  if (grants(caller.scopes, 'orders:read')) return caller.organisationId;
  throw new ProblemError(403, 'insufficient_scope', 'Forbidden', 'this endpoint needs the treasury:read scope, or orders:read for your own organisation');
}
