import { Router, type Request } from 'express';
import { notFound, ValidationError } from '../../domain/errors.ts';
import { findStatement, listStatements } from '../../db/repositories/statements.ts';
import type { ServiceContext } from '../../services/context.ts';
import { importStatement } from '../../services/import-statement.ts';
import { presentRun, presentStatement } from '../../services/present-reconciliation.ts';
import { decodeCursor, encodeCursor } from '../cursor.ts';
import { callerOf, requireScope } from '../middleware/authenticate.ts';
import { parseRequest } from '../middleware/validate.ts';
import { idParamOf, originOf } from '../request-parts.ts';
import { importStatementQuerySchema, listStatementsQuerySchema } from '../reconciliation-schemas.ts';
import { readStatementFile } from '../statement-file.ts';

/**
 * Statements: `POST /v1/statements` takes a statement file as the raw body (camt.053, camt.054, MT940 or the
 * statement CSV, recognised by content; `?rail=` the rail it comes from, `?reconcile=false` to only store it),
 * streamed; the file is its own idempotency key: the same file again answers 200 with the earlier statement.
 * Importing is the treasury's act (`treasury:write`); `treasury:read` lists and reads them.
 */
export function statementsRouter(context: ServiceContext): Router {
  const router = Router();

  router.post('/', requireScope('treasury:write'), async (req, res) => {
    const query = parseRequest(importStatementQuerySchema, req.query, 'query');
    const rail = query.rail ?? defaultRail(context);
    const file = await readStatementFile(req as Request & AsyncIterable<Buffer>, { maxWholeFileBytes: context.config.STATEMENT_MAX_XML_BYTES });
    const caller = callerOf(res);
    const imported = await importStatement(
      context,
      { name: caller.clientName, clientId: caller.clientId, organisationId: caller.organisationId },
      originOf(req, res),
      { source: rail, format: file.format, knownHash: file.knownHash, hash: () => file.hash(), header: file.header, chunks: file.chunks },
      { reconcile: query.reconcile, trigger: 'import' },
    );
    res.status(imported.duplicate ? 200 : 201).location(`/v1/statements/${imported.statement.id}`).json({
      statement: presentStatement(imported.statement),
      duplicate: imported.duplicate,
      run: imported.reconciliation ? presentRun(imported.reconciliation.run) : null,
    });
  });

  router.get('/', requireScope('treasury:read'), async (req, res) => {
    const query = parseRequest(listStatementsQuerySchema, req.query, 'query');
    const statements = await listStatements(context.db, { source: query.rail, after: query.cursor ? decodeCursor(query.cursor) : undefined, limit: query.limit });
    const last = statements.at(-1);
    res.json({
      data: statements.map(presentStatement),
      next_cursor: statements.length === query.limit && last ? encodeCursor({ createdAt: last.importedAt, id: last.id }) : null,
    });
  });

  router.get('/:id', requireScope('treasury:read'), async (req, res) => {
    const id = idParamOf(req);
    const statement = await findStatement(context.db, id);
    if (!statement) throw notFound(`statement ${id}`);
    res.json(presentStatement(statement));
  });
  return router;
}

/** Without ?rail=, the one rail of the deployment that has statements. */
function defaultRail(context: ServiceContext): string {
  const candidates = context.rails.ids().filter((id) => context.rails.get(id).capabilities.statements);
  if (candidates.length === 1) return candidates[0]!;
  throw new ValidationError([{ field: 'query.rail', reason: `name the rail the statement comes from: one of ${context.rails.ids().join(', ')}` }]);
}
