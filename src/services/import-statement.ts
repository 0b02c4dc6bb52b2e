import { randomUUID } from 'node:crypto';
import type { RequestOrigin } from '../domain/caller.ts';
import { ValidationError } from '../domain/errors.ts';
import type { StatementFormat, StatementHeader, StatementLine } from '../domain/statement.ts';
import { appendAudit } from '../db/repositories/audit-log.ts';
import { appendStatementLines, DuplicateStatement, findStatementByHash, insertStatement, sealStatement, type Statement } from '../db/repositories/statements.ts';
import type { ServiceContext } from './context.ts';
import { reconcileStatement, type ReconcileOutcome, type RunStarter } from './reconcile-statement.ts';

/** A statement to take in: a file read by the HTTP layer, or the entries a rail adapter fetched. */
export interface IncomingStatement {
  readonly source: string;
  readonly format: StatementFormat;
  /** Known before the lines are read (a file read whole, a pull); else asked for once they are. */
  readonly knownHash: string | undefined;
  hash(): string;
  readonly header: StatementHeader | undefined;
  /** For a pull: the range asked for, which is the statement's period even where nothing was booked. */
  readonly period?: { readonly from: string; readonly to: string };
  /** When the rail was asked for the statement; default: when the import starts. */
  readonly asOf?: Date;
  readonly chunks: AsyncIterable<readonly StatementLine[]>;
}

export interface ImportedStatement {
  readonly statement: Statement;
  /** The same file (or the same pulled statement) came before: nothing was stored, nothing is counted twice. */
  readonly duplicate: boolean;
  /** The reconciliation of the statement, when asked for and not a duplicate. */
  readonly reconciliation: ReconcileOutcome | undefined;
}

/**
 * Stores a statement and its lines in one transaction, a chunk at a time (the next chunk is read while the
 * last one is written), each line linked to its order by reference on the way in. A line that cannot be read
 * leaves nothing behind; a file seen before (same SHA-256) is answered with the earlier statement. Then, unless
 * told not to, reconciles it.
 */
export async function importStatement(
  context: ServiceContext,
  starter: RunStarter,
  origin: RequestOrigin | null,
  incoming: IncomingStatement,
  options: { reconcile: boolean; trigger: 'import' | 'pull' | 'schedule' },
): Promise<ImportedStatement> {
  if (!context.rails.ids().includes(incoming.source)) {
    throw new ValidationError([{ field: 'rail', reason: `"${incoming.source}" is not a rail of this deployment (${context.rails.ids().join(', ')})` }]);
  }
  if (incoming.knownHash !== undefined) {
    const earlier = await findStatementByHash(context.db, incoming.knownHash);
    if (earlier) return { statement: earlier, duplicate: true, reconciliation: undefined };
  }
  const id = randomUUID();
  const started = performance.now();
  let statement: Statement;
  try {
    statement = await context.db.transaction(async (trx) => {
      await insertStatement(trx, { id, organisationId: null, source: incoming.source, format: incoming.format, importedBy: starter.name, importedByClient: starter.clientId, ...(incoming.asOf && { asOf: incoming.asOf }) });
      let next = 1;
      let writing: Promise<void> | undefined;
      try {
        for await (const chunk of incoming.chunks) {
          await writing;
          writing = appendStatementLines(trx, id, next, chunk);
          next += chunk.length;
        }
      } finally {
        await writing?.catch(() => undefined);
      }
      await writing;
      const sealed = await sealStatement(trx, id, { fileHash: incoming.hash(), header: incoming.header, ...(incoming.period && { period: incoming.period }) });
      await appendAudit(trx, {
        organisationId: starter.organisationId, clientId: starter.clientId, actor: starter.name, action: 'statement.import', target: id,
        sourceIp: origin?.sourceIp ?? null, requestId: origin?.requestId ?? null,
        detail: { source: sealed.source, format: sealed.format, lines: sealed.lineCount, file_hash: sealed.fileHash, period_from: sealed.periodFrom, period_to: sealed.periodTo },
      });
      return sealed;
    });
  } catch (error) {
    if (!(error instanceof DuplicateStatement)) throw error;
    const earlier = await findStatementByHash(context.db, error.fileHash);
    if (!earlier) throw error;
    return { statement: earlier, duplicate: true, reconciliation: undefined };
  }
  context.logger.info({ statementId: statement.id, source: statement.source, format: statement.format, lines: statement.lineCount, ms: Math.round(performance.now() - started) }, 'statement imported');
  const reconciliation = options.reconcile ? await reconcileStatement(context, statement, starter, origin, options.trigger) : undefined;
  return { statement, duplicate: false, reconciliation };
}
