import type { StatementFormat, StatementHeader, StatementLine } from '../../domain/statement.ts';
import type { Knex } from 'knex';
import type { Database } from '../knex.ts';

export interface Statement {
  readonly id: string;
  readonly seq: string;
  readonly organisationId: string | null;
  /** The rail the statement comes from. */
  readonly source: string;
  readonly account: string | null;
  readonly format: StatementFormat;
  readonly fileHash: string | null;
  readonly statementRef: string | null;
  readonly periodFrom: string | null;
  readonly periodTo: string | null;
  readonly currency: string | null;
  readonly openingBalanceMinor: bigint | null;
  readonly closingBalanceMinor: bigint | null;
  readonly reports: readonly Record<string, unknown>[];
  readonly lineCount: number;
  readonly importedBy: string;
  readonly importedByClient: string | null;
  readonly importedAt: Date;
  readonly asOf: Date;
}

interface StatementRow {
  id: string;
  seq: string;
  organisation_id: string | null;
  source: string;
  account: string | null;
  format: StatementFormat;
  file_hash: string | null;
  statement_ref: string | null;
  period_from: string | null;
  period_to: string | null;
  currency: string | null;
  opening_balance_minor: string | null;
  closing_balance_minor: string | null;
  reports: Record<string, unknown>[];
  line_count: number;
  imported_by: string;
  imported_by_client: string | null;
  imported_at: Date;
  as_of: Date;
}

const COLUMNS = `id, seq, organisation_id, source, account, format, file_hash, statement_ref, period_from::text AS period_from, period_to::text AS period_to,
  currency, opening_balance_minor, closing_balance_minor, reports, line_count, imported_by, imported_by_client, imported_at, as_of`;

function statementFromRow(row: StatementRow): Statement {
  return {
    id: row.id,
    seq: String(row.seq),
    organisationId: row.organisation_id,
    source: row.source,
    account: row.account,
    format: row.format,
    fileHash: row.file_hash,
    statementRef: row.statement_ref,
    periodFrom: row.period_from,
    periodTo: row.period_to,
    currency: row.currency?.trim() ?? null,
    openingBalanceMinor: row.opening_balance_minor === null ? null : BigInt(row.opening_balance_minor),
    closingBalanceMinor: row.closing_balance_minor === null ? null : BigInt(row.closing_balance_minor),
    reports: row.reports,
    lineCount: row.line_count,
    importedBy: row.imported_by,
    importedByClient: row.imported_by_client,
    importedAt: row.imported_at,
    asOf: row.as_of,
  };
}

export interface NewStatement {
  readonly id: string;
  readonly organisationId: string | null;
  readonly source: string;
  readonly format: StatementFormat;
  readonly importedBy: string;
  readonly importedByClient: string | null;
  /** When the rail was asked for it (a pull); default: now. */
  readonly asOf?: Date;
}

/** The statement's row, before its lines; its hash is set by sealStatement once the last line is in. */
export async function insertStatement(db: Database, statement: NewStatement): Promise<void> {
  await db('statements').insert({
    id: statement.id, organisation_id: statement.organisationId, source: statement.source, format: statement.format,
    imported_by: statement.importedBy, imported_by_client: statement.importedByClient, ...(statement.asOf && { as_of: statement.asOf }),
  });
}

/**
 * Stores a chunk of lines, arrays in, one INSERT per table. A line names its order by end-to-end reference
 * (the order's rail key), which reconciliation joins on: a probe per line here would cost more than the insert.
 * The payments a bulk line lists (a small share of lines) are linked to their orders on the way in.
 */
export async function appendStatementLines(db: Database, statementId: string, firstLineNumber: number, lines: readonly StatementLine[]): Promise<void> {
  if (lines.length === 0) return;
  const n = lines.length;
  const numbers = new Array<number>(n);
  const amounts = new Array<string>(n);
  const currencies = new Array<string>(n);
  const directions = new Array<string>(n);
  const bookingDates = new Array<string>(n);
  const valueDates = new Array<string>(n);
  const keys = new Array<string>(n);
  const references = new Array<string>(n);
  const counterparties = new Array<string>(n);
  const accounts = new Array<string>(n);
  const reversals = new Array<string>(n);
  const reasons = new Array<string>(n);
  const batchCounts = new Array<string>(n);
  const batchReferences = new Array<string>(n);
  const bulkNumbers: number[] = [];
  const bulkPositions: number[] = [];
  const bulkKeys: string[] = [];
  const bulkReferences: string[] = [];
  for (let i = 0; i < n; i++) {
    const line = lines[i]!;
    const number = firstLineNumber + i;
    numbers[i] = number;
    amounts[i] = line.amount.minor.toString();
    currencies[i] = line.amount.currency;
    directions[i] = line.direction;
    bookingDates[i] = line.bookingDate;
    valueDates[i] = line.valueDate;
    keys[i] = text(line.railKey);
    references[i] = text(line.railReference);
    counterparties[i] = text(line.counterparty);
    accounts[i] = text(line.counterpartyAccount);
    reversals[i] = line.reversal ? 't' : 'f';
    reasons[i] = text(line.reasonCode);
    batchCounts[i] = line.batchCount === undefined ? NULL_MARK : String(line.batchCount);
    batchReferences[i] = text(line.batchReference);
    line.batchKeys?.forEach((key, position) => {
      bulkNumbers.push(number);
      bulkPositions.push(position + 1);
      bulkKeys.push(text(key));
      bulkReferences.push(text(line.batchReferences?.[position]));
    });
  }
  await db.raw(
    `INSERT INTO statement_lines (statement_id, line_number, amount_minor, currency, direction, booking_date, value_date, rail_key, rail_reference,
                                  counterparty, counterparty_account, reversal, reason_code, batch_count, batch_reference)
     SELECT ?::uuid, u.*
     FROM unnest(${['int', 'bigint', 'text', 'text', 'date', 'date', 'text', 'text', 'text', 'text', 'boolean', 'text', 'int', 'text'].map(packedColumn).join(', ')})
          AS u(n, amount, currency, direction, booking_date, value_date, rail_key, rail_reference, counterparty, account, reversal, reason_code, batch_count, batch_reference)`,
    [statementId, ...[numbers, amounts, currencies, directions, bookingDates, valueDates, keys, references, counterparties, accounts, reversals, reasons, batchCounts, batchReferences].map(pack)],
  );
  if (bulkKeys.length === 0) return;
  await db.raw(
    `INSERT INTO statement_line_payments (statement_id, line_number, position, rail_key, rail_reference, order_id, match_method)
     SELECT ?::uuid, u.n, u.position, u.rail_key, u.rail_reference, (SELECT o.id FROM orders o WHERE o.rail_key = u.rail_key), 'reference'
     FROM unnest(${['int', 'int', 'text', 'text'].map(packedColumn).join(', ')}) AS u(n, position, rail_key, rail_reference)`,
    [statementId, ...[bulkNumbers, bulkPositions, bulkKeys, bulkReferences].map(pack)],
  );
}

/**
 * A chunk's column travels as one text, its values separated by the unit separator and NULL written as the
 * record separator (control characters no statement field carries: any in a value become spaces). Joining
 * strings costs a fraction of serialising arrays, on a path that carries a million lines.
 */
const SEPARATOR = '\u001f';
const NULL_MARK = '\u001e';

function text(value: string | undefined): string {
  if (value === undefined) return NULL_MARK;
  return value.includes(SEPARATOR) || value.includes(NULL_MARK) ? value.replaceAll(SEPARATOR, ' ').replaceAll(NULL_MARK, ' ') : value;
}

function pack(values: readonly (string | number)[]): string {
  return values.join(SEPARATOR);
}

function packedColumn(type: string): string {
  return `string_to_array(?, E'\\x1f', E'\\x1e')::${type}[]`;
}

export interface StatementSeal {
  readonly fileHash: string;
  readonly header: StatementHeader | undefined;
  /** Given for statements pulled from a rail: the range asked for. */
  readonly period?: { readonly from: string; readonly to: string };
}

export class DuplicateStatement extends Error {
  override name = 'DuplicateStatement';
  constructor(readonly fileHash: string) {
    super(`a statement with hash ${fileHash} was imported before`);
  }
}

/**
 * Completes the statement once its lines are in: counts, period (from the lines' booking dates unless given),
 * balances, and the file hash, whose uniqueness recognises a file imported before (DuplicateStatement: the
 * caller's transaction must roll back, leaving nothing of the second import).
 */
export async function sealStatement(db: Database, statementId: string, seal: StatementSeal): Promise<Statement> {
  const first = seal.header?.reports[0];
  const reports = (seal.header?.reports ?? []).map((report) => ({
    id: report.id,
    account: report.account ?? null,
    currency: report.currency ?? null,
    opening_balance_minor: report.openingBalanceMinor?.toString() ?? null,
    closing_balance_minor: report.closingBalanceMinor?.toString() ?? null,
    opening_date: report.openingDate ?? null,
    closing_date: report.closingDate ?? null,
    entries: report.entries,
  }));
  const balanceDates = (seal.header?.reports ?? []).flatMap((report) => [report.openingDate, report.closingDate]).filter((date): date is string => date !== undefined).sort();
  try {
    const { rows } = (await db.raw(
      `WITH counted AS (
         SELECT count(*)::int AS lines, min(booking_date) AS first_day, max(booking_date) AS last_day FROM statement_lines WHERE statement_id = ?
       )
       UPDATE statements s SET
         file_hash = ?, statement_ref = ?, account = ?, currency = ?, opening_balance_minor = ?, closing_balance_minor = ?, reports = ?::jsonb,
         line_count = counted.lines,
         period_from = COALESCE(?::date, counted.first_day, ?::date),
         period_to = COALESCE(?::date, counted.last_day, ?::date)
       FROM counted
       WHERE s.id = ?
       RETURNING ${COLUMNS}`,
      [
        statementId, seal.fileHash, seal.header?.statementRef ?? null, first?.account ?? null,
        (seal.header?.reports.length === 1 ? first?.currency : undefined) ?? null,
        seal.header?.reports.length === 1 ? (first?.openingBalanceMinor?.toString() ?? null) : null,
        seal.header?.reports.length === 1 ? (first?.closingBalanceMinor?.toString() ?? null) : null,
        JSON.stringify(reports),
        seal.period?.from ?? null, balanceDates[0] ?? null, seal.period?.to ?? null, balanceDates.at(-1) ?? null,
        statementId,
      ],
    )) as { rows: StatementRow[] };
    return statementFromRow(rows[0]!);
  } catch (error) {
    const failure = error as { code?: string; constraint?: string };
    if (failure.code === '23505' && failure.constraint === 'statements_file_hash_key') throw new DuplicateStatement(seal.fileHash);
    throw error;
  }
}

export async function findStatementByHash(db: Database, fileHash: string): Promise<Statement | undefined> {
  const { rows } = (await db.raw(`SELECT ${COLUMNS} FROM statements WHERE file_hash = ?`, [fileHash])) as { rows: StatementRow[] };
  return rows[0] ? statementFromRow(rows[0]) : undefined;
}

export async function findStatement(db: Database, id: string): Promise<Statement | undefined> {
  const { rows } = (await db.raw(`SELECT ${COLUMNS} FROM statements WHERE id = ? AND file_hash IS NOT NULL`, [id])) as { rows: StatementRow[] };
  return rows[0] ? statementFromRow(rows[0]) : undefined;
}

export async function listStatements(db: Database, filter: { source?: string; after?: { createdAt: Date; id: string }; limit: number }): Promise<Statement[]> {
  const conditions = ['file_hash IS NOT NULL'];
  const bindings: Knex.Value[] = [];
  if (filter.source) {
    conditions.push('source = ?');
    bindings.push(filter.source);
  }
  if (filter.after) {
    conditions.push('(imported_at, id) < (?, ?)');
    bindings.push(filter.after.createdAt, filter.after.id);
  }
  const { rows } = (await db.raw(`SELECT ${COLUMNS} FROM statements WHERE ${conditions.join(' AND ')} ORDER BY imported_at DESC, id DESC LIMIT ?`, [...bindings, filter.limit])) as { rows: StatementRow[] };
  return rows.map(statementFromRow);
}
