import { createHash, type Hash } from 'node:crypto';
import { StringDecoder } from 'node:string_decoder';
import { parse as parseSync } from 'csv-parse/sync';
import { parseCamt053, parseCamt054, type CamtDocument } from '../../adapters/bank-iso20022/camt.ts';
import { parseMt940, type Mt940Statement } from '../../adapters/bank-iso20022/mt940.ts';
import { documentNamespace } from '../../adapters/bank-iso20022/xml.ts';
import { ProblemError, ValidationError, type FieldError } from '../domain/errors.ts';
import { parseMoney } from '../domain/money.ts';
import { isIsoDate, type StatementFormat, type StatementHeader, type StatementLine, type StatementReport } from '../domain/statement.ts';

/**
 * Reads a statement file as it arrives, recognising its format by its content: camt.053 or camt.054 (XML,
 * by the Document namespace), MT940 (SWIFT blocks or a :20: field first), or Kassa's statement CSV (anything
 * else, with the header below). XML and MT940 are read whole (up to a limit) by the bank adapter's parsers;
 * a CSV is streamed, a chunk of lines at a time, so a file of a million lines never sits in memory. A file
 * that cannot be read stops with a 422 naming the line or the element.
 *
 * The statement CSV: one booking per line, a header naming the columns (any order, case-insensitive):
 * - booking_date (YYYY-MM-DD), direction (credit|debit, or CRDT|DBIT, C|D), amount (decimal in major units,
 *   "125.50"), currency (ISO 4217), rail_reference (the bank's reference of the booking): required;
 * - value_date (default: booking_date), end_to_end_id (the payment's end-to-end reference, Kassa's rail key),
 *   counterparty (name), counterparty_account (IBAN, MSISDN…), reversal (true|false, default false: a
 *   returned payment is a reversal), reason_code (a return's reason, e.g. AC04), batch_end_to_end_ids (a bulk
 *   line: the end-to-end ids it covers, separated by spaces or |), batch_count (a bulk line's number of
 *   payments, when it does not list them), batch_reference (its payment information id): optional.
 */

export const STATEMENT_CSV_REQUIRED = ['booking_date', 'direction', 'amount', 'currency', 'rail_reference'] as const;
export const STATEMENT_CSV_OPTIONAL = [
  'value_date', 'end_to_end_id', 'counterparty', 'counterparty_account', 'reversal', 'reason_code', 'batch_end_to_end_ids', 'batch_count', 'batch_reference',
] as const;
const CSV_COLUMNS: readonly string[] = [...STATEMENT_CSV_REQUIRED, ...STATEMENT_CSV_OPTIONAL];

/** Lines per INSERT: large enough that the statement's cost is the rows', small enough to stay a few MB. */
export const LINES_PER_CHUNK = 20_000;

export interface StatementFile {
  readonly format: Exclude<StatementFormat, 'rail'>;
  /** The whole file's SHA-256, known at once for a file read whole; for a CSV only once its lines are consumed. */
  readonly knownHash: string | undefined;
  hash(): string;
  /** Known at once for XML and MT940; a CSV has none. */
  readonly header: StatementHeader | undefined;
  /** The lines, a chunk at a time; consume once. */
  readonly chunks: AsyncIterable<readonly StatementLine[]>;
}

const fileProblem = (errors: FieldError[]) => new ValidationError(errors);

/** Reads the request body; the format is decided by the first bytes. */
export async function readStatementFile(body: AsyncIterable<Buffer | string>, options: { maxWholeFileBytes: number }): Promise<StatementFile> {
  const iterator = body[Symbol.asyncIterator]();
  const head: Buffer[] = [];
  let headBytes = 0;
  let ended = false;
  while (headBytes < 64) {
    const next = await iterator.next();
    if (next.done) {
      ended = true;
      break;
    }
    const chunk = typeof next.value === 'string' ? Buffer.from(next.value) : next.value;
    head.push(chunk);
    headBytes += chunk.length;
  }
  const start = Buffer.concat(head).toString('utf8').replace(/^\uFEFF/, '').trimStart();
  if (start === '') throw fileProblem([{ field: 'file', reason: 'the file is empty' }]);
  const rest = async function* (): AsyncGenerator<Buffer> {
    yield* head;
    if (ended) return;
    for (;;) {
      const next = await iterator.next();
      if (next.done) return;
      yield typeof next.value === 'string' ? Buffer.from(next.value) : next.value;
    }
  };
  if (start.startsWith('<') || start.startsWith('{') || /^:\d{2}[A-Z]?:/.test(start)) {
    const whole = await readWhole(rest(), options.maxWholeFileBytes);
    const hash = createHash('sha256').update(whole).digest('hex');
    return start.startsWith('<') ? xmlStatement(whole, hash) : mt940Statement(whole, hash);
  }
  return csvStatement(rest());
}

async function readWhole(chunks: AsyncIterable<Buffer>, limit: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of chunks) {
    size += chunk.length;
    if (size > limit) {
      throw new ProblemError(413, 'payload_too_large', 'Payload too large', `XML and MT940 statements are read whole and limited to ${limit} bytes; send larger statements as CSV, which is streamed`);
    }
    parts.push(chunk);
  }
  return Buffer.concat(parts);
}

function fixed(format: StatementFile['format'], hash: string, header: StatementHeader, lines: readonly StatementLine[]): StatementFile {
  return {
    format,
    knownHash: hash,
    hash: () => hash,
    header,
    chunks: (async function* () {
      for (let start = 0; start < lines.length; start += LINES_PER_CHUNK) yield lines.slice(start, start + LINES_PER_CHUNK);
    })(),
  };
}

// ---- camt.053 / camt.054 ----

function xmlStatement(whole: Buffer, hash: string): StatementFile {
  const xml = whole.toString('utf8');
  const namespace = documentNamespace(xml) ?? '';
  const format = /camt\.053\.001\.\d\d$/.test(namespace) ? 'camt.053' : /camt\.054\.001\.\d\d$/.test(namespace) ? 'camt.054' : undefined;
  if (!format) {
    throw fileProblem([{ field: 'file', reason: `an XML statement must be a camt.053 or camt.054 Document; its namespace is ${namespace ? `"${namespace}"` : 'missing'}` }]);
  }
  let document: CamtDocument;
  try {
    document = format === 'camt.053' ? parseCamt053(xml) : parseCamt054(xml);
  } catch (error) {
    throw readError(error);
  }
  return fixed(format, hash, camtHeader(document), camtLines(document));
}

const NOT_PROVIDED = 'NOTPROVIDED';

/** Booked entries only, with the same references the bank adapter's statementEntries gives, plus the counterparty's account. */
export function camtLines(document: CamtDocument): StatementLine[] {
  const lines: StatementLine[] = [];
  for (const report of document.reports) {
    report.entries.forEach((e, index) => {
      if (e.status !== 'BOOK') return;
      const keyed = e.transactions.filter((tx) => tx.endToEndId !== undefined && tx.endToEndId !== NOT_PROVIDED);
      const keys = keyed.map((tx) => tx.endToEndId!);
      const single = e.transactions.length === 1 ? e.transactions[0] : undefined;
      const creditorSide = (e.direction === 'debit') !== e.reversal;
      const name = single && (creditorSide ? single.creditorName : single.debtorName);
      const account = single && (creditorSide ? single.creditorAccount : single.debtorAccount);
      const count = e.batch?.numberOfTransactions ?? e.transactions.length;
      const reasonCode = e.transactions.find((tx) => tx.returnReasonCode !== undefined)?.returnReasonCode;
      const bookingDate = e.bookingDate!;
      lines.push({
        amount: e.amount,
        direction: e.direction,
        bookingDate,
        valueDate: e.valueDate ?? bookingDate,
        railReference: single?.accountServicerReference ?? e.reference ?? `${report.id}/${index + 1}`,
        reversal: e.reversal,
        ...(count > 1
          ? { batchCount: count, ...(keys.length > 0 && { batchKeys: keys, batchReferences: keyed.map((tx) => tx.accountServicerReference) }) }
          : keys[0] !== undefined ? { railKey: keys[0] } : {}),
        ...(count > 1 && (e.batch?.paymentInformationId ?? e.batch?.messageId) !== undefined && { batchReference: e.batch?.paymentInformationId ?? e.batch?.messageId }),
        ...((name ?? account) !== undefined && (name ?? account) !== NOT_PROVIDED && { counterparty: name ?? account }),
        ...(account !== undefined && { counterpartyAccount: account }),
        ...(reasonCode !== undefined && { reasonCode }),
      });
    });
  }
  return lines;
}

function camtHeader(document: CamtDocument): StatementHeader {
  const reports: StatementReport[] = document.reports.map((report) => {
    const opening = report.balances.find((b) => b.type === 'OPBD' || b.type === 'PRCD');
    const closing = report.balances.find((b) => b.type === 'CLBD');
    const signed = (b: typeof opening) => (b === undefined ? undefined : b.direction === 'credit' ? b.amount.minor : -b.amount.minor);
    return {
      id: report.id,
      account: report.account,
      entries: report.entries.length,
      ...((report.currency ?? opening?.amount.currency) !== undefined && { currency: report.currency ?? opening?.amount.currency }),
      ...(opening && { openingBalanceMinor: signed(opening), openingDate: opening.date }),
      ...(closing && { closingBalanceMinor: signed(closing), closingDate: closing.date }),
    };
  });
  return { statementRef: document.messageId, reports };
}

// ---- MT940 ----

function mt940Statement(whole: Buffer, hash: string): StatementFile {
  let statements: Mt940Statement[];
  try {
    statements = parseMt940(whole);
  } catch (error) {
    throw readError(error);
  }
  return fixed('mt940', hash, mt940Header(statements), mt940Lines(statements));
}

/** The same references as the bank adapter's statementEntriesFromMt940; a bulk line (/NBTX/ above 1) keeps its count and /PREF/. */
export function mt940Lines(statements: readonly Mt940Statement[]): StatementLine[] {
  const lines: StatementLine[] = [];
  for (const s of statements) {
    s.entries.forEach((e, index) => {
      const count = e.codes.NBTX !== undefined && /^\d+$/.test(e.codes.NBTX) ? Number(e.codes.NBTX) : 1;
      const railKey = e.codes.EREF !== undefined && e.codes.EREF !== NOT_PROVIDED && count <= 1 ? e.codes.EREF : undefined;
      const counterparty = e.codes.NAME ?? e.codes.IBAN;
      lines.push({
        amount: e.amount,
        direction: e.direction,
        bookingDate: e.bookingDate,
        valueDate: e.valueDate,
        railReference: e.bankReference ?? (e.customerReference !== 'NONREF' ? e.customerReference : `${s.reference}/${index + 1}`),
        reversal: e.reversal,
        ...(railKey !== undefined && { railKey }),
        ...(count > 1 && { batchCount: count, batchReference: e.codes.PREF ?? e.customerReference }),
        ...(counterparty !== undefined && { counterparty }),
        ...(e.codes.IBAN !== undefined && { counterpartyAccount: e.codes.IBAN }),
        ...(e.codes.RTRN !== undefined && { reasonCode: e.codes.RTRN }),
      });
    });
  }
  return lines;
}

function mt940Header(statements: readonly Mt940Statement[]): StatementHeader {
  const signed = (b: Mt940Statement['openingBalance']) => (b.direction === 'credit' ? b.amount.minor : -b.amount.minor);
  return {
    statementRef: statements[0]!.reference,
    reports: statements.map((s) => ({
      id: s.reference,
      account: s.account,
      currency: s.currency,
      openingBalanceMinor: signed(s.openingBalance),
      closingBalanceMinor: signed(s.closingBalance),
      openingDate: s.openingBalance.date,
      closingDate: s.closingBalance.date,
      entries: s.entries.length,
    })),
  };
}

/** A parser's message names the line (MT940, malformed XML) or the element (camt); the field says which, the reason keeps it all. */
function readError(error: unknown): ValidationError {
  const name = (error as Error).name;
  if (name !== 'Iso20022FormatError' && name !== 'Mt940FormatError') throw error;
  const message = (error as Error).message;
  const line = /\bline (\d+)\b/.exec(message)?.[1];
  const element = /^camt\.05\d: ((?:[A-Za-z]+(?:\[\d+\])?)(?:\/[A-Za-z]+(?:\[\d+\])?)*)/.exec(message)?.[1];
  const field = line !== undefined ? `file line ${line}` : element !== undefined ? `file element ${element}` : 'file';
  return fileProblem([{ field, reason: message }]);
}

// ---- CSV ----

function csvStatement(chunks: AsyncIterable<Buffer>): StatementFile {
  const digest: Hash = createHash('sha256');
  let hash: string | undefined;
  const hashing = async function* (): AsyncGenerator<Buffer> {
    for await (const chunk of chunks) {
      digest.update(chunk);
      yield chunk;
    }
    hash = digest.digest('hex');
  };
  return {
    format: 'csv',
    knownHash: undefined,
    hash: () => {
      if (hash === undefined) throw new Error('the CSV statement has not been read to its end');
      return hash;
    },
    header: undefined,
    chunks: csvLines(hashing()),
  };
}

interface Columns {
  readonly [name: string]: number | undefined;
}

/** Text is parsed in blocks of whole lines of about this many characters; a line may not be longer than the limit. */
const BLOCK_CHARS = 1 << 20;
const LINE_LIMIT_CHARS = 16 << 20;
const PARSE_OPTIONS = { skip_empty_lines: true, trim: true, relax_column_count: true } as const;

/**
 * Reads the CSV a block of whole lines at a time (a block never ends inside a quoted field), each parsed in one
 * call of csv-parse; line numbers are worked out only when a line is wrong, by parsing its block again with
 * them, which keeps the common case cheap.
 */
async function* csvLines(source: AsyncIterable<Buffer>): AsyncGenerator<StatementLine[]> {
  const decoder = new StringDecoder('utf8');
  const dates = new DateChecker();
  let pending = '';
  let firstLine = 1;
  let columns: { names: Columns; count: number } | undefined;
  let chunk: StatementLine[] = [];
  const parseBlock = function* (block: string): Generator<StatementLine[]> {
    let records: string[][];
    try {
      records = block.includes('"') ? (parseSync(block, PARSE_OPTIONS) as string[][]) : splitPlain(block);
    } catch (error) {
      const failure = error as { message: string; lines?: number };
      throw fileProblem([{ field: `file line ${failure.lines === undefined ? '?' : firstLine + failure.lines - 1}`, reason: failure.message }]);
    }
    for (let index = 0; index < records.length; index++) {
      const record = records[index]!;
      try {
        if (!columns) {
          const names = csvHeader(record, firstLine);
          columns = { names, count: record.length };
          continue;
        }
        if (record.length !== columns.count) throw fileProblem([{ field: 'file', reason: `has ${record.length} fields where the header names ${columns.count}` }]);
        chunk.push(csvLine(record, columns.names, dates));
      } catch (error) {
        if (!(error instanceof ValidationError)) throw error;
        throw fileProblem(error.errors.map((failure) => ({ field: `file line ${lineOf(block, index, firstLine)}`, reason: failure.reason })));
      }
      if (chunk.length >= LINES_PER_CHUNK) {
        yield chunk;
        chunk = [];
      }
    }
  };
  let bom = true;
  for await (const data of source) {
    pending += decoder.write(data);
    if (bom) {
      pending = pending.replace(/^\uFEFF/, '');
      bom = pending.length === 0;
    }
    if (pending.length < BLOCK_CHARS) continue;
    const cut = endOfWholeLines(pending);
    if (cut <= 0) {
      if (pending.length > LINE_LIMIT_CHARS) throw fileProblem([{ field: `file line ${firstLine}`, reason: `a line (or a quoted field left open) runs over ${LINE_LIMIT_CHARS} characters` }]);
      continue;
    }
    const block = pending.slice(0, cut);
    pending = pending.slice(cut);
    yield* parseBlock(block);
    firstLine += countNewlines(block);
  }
  pending += decoder.end();
  if (pending.trim() !== '') yield* parseBlock(pending);
  if (!columns) throw fileProblem([{ field: 'file line 1', reason: `the statement CSV needs a header naming the columns ${CSV_COLUMNS.join(',')}` }]);
  if (chunk.length > 0) yield chunk;
}

/** A block without a quote mark is CSV at its simplest: lines split at newlines, fields at commas, trimmed; blank lines skipped. */
function splitPlain(block: string): string[][] {
  const records: string[][] = [];
  for (const line of block.split('\n')) {
    const fields = line.split(',');
    if (fields.length === 1 && fields[0]!.trim() === '') continue;
    for (let i = 0; i < fields.length; i++) fields[i] = fields[i]!.trim();
    records.push(fields);
  }
  return records;
}

/** Where the last whole line ends: after a newline outside quotes (an even number of quote marks before it). */
function endOfWholeLines(text: string): number {
  let quotes = 0;
  for (let at = text.indexOf('"'); at !== -1; at = text.indexOf('"', at + 1)) quotes++;
  let after = 0;
  for (let end = text.length - 1; end >= 0; end--) {
    const char = text.charCodeAt(end);
    if (char === 34) after++;
    else if (char === 10 && (quotes - after) % 2 === 0) return end + 1;
  }
  return -1;
}

function countNewlines(text: string): number {
  let count = 0;
  for (let at = text.indexOf('\n'); at !== -1; at = text.indexOf('\n', at + 1)) count++;
  return count;
}

/** The file line of a block's record, by parsing the block again with line numbers (only ever for a wrong line). */
function lineOf(block: string, recordIndex: number, firstLine: number): number {
  const records = parseSync(block, { ...PARSE_OPTIONS, info: true }) as unknown as { info: { lines: number } }[];
  const lines = records[recordIndex]?.info.lines;
  return lines === undefined ? firstLine : firstLine + lines - 1;
}

function csvHeader(record: readonly string[], line: number): Columns {
  const names = record.map((name) => name.trim().toLowerCase());
  const unknown = names.filter((name) => !CSV_COLUMNS.includes(name));
  const missing = STATEMENT_CSV_REQUIRED.filter((name) => !names.includes(name));
  const twice = names.filter((name, index) => names.indexOf(name) !== index);
  if (unknown.length > 0 || missing.length > 0 || twice.length > 0) {
    const problems = [
      ...(missing.length > 0 ? [`missing: ${missing.join(', ')}`] : []),
      ...(unknown.length > 0 ? [`unknown: ${unknown.join(', ')}`] : []),
      ...(twice.length > 0 ? [`named twice: ${[...new Set(twice)].join(', ')}`] : []),
    ];
    throw fileProblem([{ field: `file line ${line}`, reason: `the header must name the columns ${STATEMENT_CSV_REQUIRED.join(',')} (and may name ${STATEMENT_CSV_OPTIONAL.join(',')}); ${problems.join('; ')}` }]);
  }
  return Object.fromEntries(names.map((name, index) => [name, index]));
}

/** Dates repeat on every line of a statement: each is checked once per file. */
class DateChecker {
  private readonly seen = new Set<string>();
  valid(text: string): boolean {
    if (this.seen.has(text)) return true;
    if (!isIsoDate(text)) return false;
    if (this.seen.size < 10_000) this.seen.add(text);
    return true;
  }
}

const DIRECTIONS: Readonly<Record<string, 'credit' | 'debit'>> = { credit: 'credit', crdt: 'credit', c: 'credit', debit: 'debit', dbit: 'debit', d: 'debit' };
const BOOLEANS: Readonly<Record<string, boolean>> = { '': false, false: false, '0': false, no: false, n: false, true: true, '1': true, yes: true, y: true };

function csvLine(record: readonly string[], columns: Columns, dates: DateChecker): StatementLine {
  const field = (name: string): string => {
    const index = columns[name];
    return index === undefined ? '' : (record[index] ?? '');
  };
  const problems: string[] = [];
  const bookingDate = field('booking_date');
  if (!dates.valid(bookingDate)) problems.push(`booking_date "${bookingDate}" is not a date (YYYY-MM-DD)`);
  const valueDate = field('value_date') || bookingDate;
  if (valueDate !== bookingDate && !dates.valid(valueDate)) problems.push(`value_date "${valueDate}" is not a date (YYYY-MM-DD)`);
  const direction = DIRECTIONS[field('direction').toLowerCase()];
  if (!direction) problems.push(`direction "${field('direction')}" is neither credit nor debit`);
  const money = parseMoney(field('amount'), field('currency').toUpperCase());
  if (!money.ok) problems.push(`${money.field} ${money.field === 'amount' ? `"${field('amount')}"` : ''} ${money.reason}`.replace(/\s+/g, ' '));
  const railReference = field('rail_reference');
  if (railReference === '') problems.push('rail_reference is empty: every booking needs the bank\'s reference');
  const reversal = BOOLEANS[field('reversal').toLowerCase()];
  if (reversal === undefined) problems.push(`reversal "${field('reversal')}" is neither true nor false`);
  const batchKeys = field('batch_end_to_end_ids').split(/[\s|]+/).filter(Boolean);
  const batchCountText = field('batch_count');
  const batchCount = batchCountText === '' ? (batchKeys.length > 1 ? batchKeys.length : undefined) : Number(batchCountText);
  if (batchCount !== undefined && (!Number.isInteger(batchCount) || batchCount < 1)) problems.push(`batch_count "${batchCountText}" is not a positive whole number`);
  const endToEndId = field('end_to_end_id');
  if (endToEndId !== '' && batchKeys.length > 0) problems.push('a line names either end_to_end_id (one payment) or batch_end_to_end_ids (a bulk line), not both');
  if (problems.length > 0 || !money.ok || !direction || reversal === undefined) throw fileProblem([{ field: 'file', reason: problems.join('; ') }]);
  const bulk = (batchCount ?? 1) > 1;
  const counterparty = field('counterparty');
  const counterpartyAccount = field('counterparty_account');
  const reasonCode = field('reason_code');
  const batchReference = field('batch_reference');
  // Built field by field: a million of these are made per large file.
  const result: { -readonly [K in keyof StatementLine]: StatementLine[K] } = { amount: money.money, direction, bookingDate, valueDate, railReference, reversal };
  const railKey = bulk ? '' : endToEndId || (batchKeys[0] ?? '');
  if (railKey !== '') result.railKey = railKey;
  if (bulk) {
    result.batchCount = batchCount;
    if (batchKeys.length > 0) result.batchKeys = batchKeys;
    if (batchReference !== '') result.batchReference = batchReference;
  }
  if (counterparty !== '') result.counterparty = counterparty;
  if (counterpartyAccount !== '') result.counterpartyAccount = counterpartyAccount;
  if (reasonCode !== '') result.reasonCode = reasonCode;
  return result;
}
