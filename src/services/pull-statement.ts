import { createHash } from 'node:crypto';
import type { RailStatementEntry } from '../../adapters/contract.ts';
import type { RequestOrigin } from '../domain/caller.ts';
import { ProblemError, ValidationError } from '../domain/errors.ts';
import type { StatementLine } from '../domain/statement.ts';
import type { ServiceContext } from './context.ts';
import { importStatement, type ImportedStatement } from './import-statement.ts';
import type { RunStarter } from './reconcile-statement.ts';

const LINES_PER_CHUNK = 5000;

/**
 * Asks a rail for its bookings of a date range (its adapter's fetchStatement), stores them as a statement and
 * reconciles it. The statement's hash covers the rail, the range and every entry, so pulling again when
 * nothing changed finds the earlier statement and counts nothing twice; a pull that finds new bookings is a
 * new statement, whose bookings seen before are recognised by their references.
 */
export async function pullStatement(
  context: ServiceContext,
  starter: RunStarter,
  origin: RequestOrigin | null,
  request: { readonly rail: string; readonly from: string; readonly to: string; readonly trigger: 'pull' | 'schedule' },
): Promise<ImportedStatement> {
  if (!context.rails.ids().includes(request.rail)) {
    throw new ValidationError([{ field: 'rail', reason: `"${request.rail}" is not a rail of this deployment (${context.rails.ids().join(', ')})` }]);
  }
  const adapter = context.rails.get(request.rail);
  if (!adapter.fetchStatement || !adapter.capabilities.statements) {
    throw new ProblemError(422, 'statements_not_supported', 'Statements not supported', `the rail ${request.rail} does not provide statements; import its statement files instead`, {
      errors: [{ field: 'rail', reason: 'this rail has no statements to pull' }],
    });
  }
  let entries: readonly RailStatementEntry[];
  const asOf = new Date();
  try {
    entries = await adapter.fetchStatement({ from: request.from, to: request.to });
  } catch (error) {
    throw new ProblemError(502, 'rail_statement_unavailable', 'Statement unavailable', `the rail ${request.rail} did not give its statement: ${(error as Error).message}`);
  }
  const lines = entries.map(lineOf);
  const hash = createHash('sha256')
    .update(JSON.stringify({ rail: request.rail, from: request.from, to: request.to, lines }, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value)))
    .digest('hex');
  return importStatement(context, starter, origin, {
    source: request.rail,
    format: 'rail',
    knownHash: hash,
    hash: () => hash,
    header: undefined,
    period: { from: request.from, to: request.to },
    asOf,
    chunks: (async function* () {
      for (let start = 0; start < lines.length; start += LINES_PER_CHUNK) yield lines.slice(start, start + LINES_PER_CHUNK);
    })(),
  }, { reconcile: true, trigger: request.trigger });
}

function lineOf(entry: RailStatementEntry): StatementLine {
  const keys = entry.batchRailKeys ?? [];
  const count = entry.batchCount ?? keys.length;
  return {
    amount: entry.amount,
    direction: entry.direction,
    bookingDate: entry.bookingDate,
    valueDate: entry.valueDate,
    railReference: entry.railReference,
    reversal: entry.reversal,
    ...(count > 1 ? { batchCount: count, ...(keys.length > 0 && { batchKeys: keys }) } : (entry.railKey ?? keys[0]) !== undefined ? { railKey: entry.railKey ?? keys[0] } : {}),
    ...(entry.counterparty !== undefined && { counterparty: entry.counterparty }),
    ...(entry.reasonCode !== undefined && { reasonCode: entry.reasonCode }),
  };
}
