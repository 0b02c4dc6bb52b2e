import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Transform } from 'node:stream';
import { parse } from 'csv-parse';
import { formatMoney, parseMoney } from '../domain/money.ts';

/** What the agency declares of its file: Kassa checks the upload against it to the minor unit. */
export interface BatchFileSummary {
  readonly bytes: number;
  /** Payment rows (the header and empty lines are not rows). */
  readonly count: number;
  /** Total per currency, in minor units, of every row whose amount is a valid amount in its currency. */
  readonly totals: ReadonlyMap<string, bigint>;
  /** Rows whose amount or currency Kassa will refuse: they are counted, reported invalid, and in no total. */
  readonly unreadableAmounts: number;
  /** sha256 of the program and the file: the same file for the same program is the same batch. */
  readonly correlationId: string;
}

export class BatchFileError extends Error {
  override name = 'BatchFileError';
}

/**
 * Reads the file once, as a stream, with the same CSV reading Kassa applies (BOM, trimmed cells, empty lines
 * skipped): counts the rows, sums the amounts in exact minor units (BigInt; never a float) and hashes the bytes.
 */
export async function summariseBatchFile(path: string, program: string): Promise<BatchFileSummary> {
  const size = (await stat(path)).size;
  const hash = createHash('sha256').update(`kassa-batch\0${program}\0`);
  const hashing = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      done(null, chunk);
    },
  });
  const parser = createReadStream(path).pipe(hashing).pipe(parse({ columns: checkedHeader, bom: true, skip_empty_lines: true, trim: true }));
  let count = 0;
  let unreadableAmounts = 0;
  const totals = new Map<string, bigint>();
  try {
    for await (const record of parser as AsyncIterable<Record<string, string>>) {
      count += 1;
      const parsed = parseMoney(record.amount ?? '', record.currency ?? '');
      if (!parsed.ok) {
        unreadableAmounts += 1;
        continue;
      }
      totals.set(parsed.money.currency, (totals.get(parsed.money.currency) ?? 0n) + parsed.money.minor);
    }
  } catch (error) {
    if (error instanceof BatchFileError) throw error;
    const failure = error as { message: string; lines?: number };
    throw new BatchFileError(`${path}${failure.lines ? ` line ${failure.lines}` : ''}: ${failure.message}`);
  }
  if (count === 0) throw new BatchFileError(`${path}: the file has no payment rows`);
  if (totals.size === 0) throw new BatchFileError(`${path}: no row has a valid amount and currency`);
  return { bytes: size, count, totals, unreadableAmounts, correlationId: hash.digest('hex') };
}

function checkedHeader(header: string[]): string[] {
  const columns = header.map((name) => name.trim().toLowerCase());
  const missing = ['amount', 'currency'].filter((name) => !columns.includes(name));
  if (missing.length > 0) throw new BatchFileError(`the header (line 1) lacks the column${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`);
  return columns;
}

/** `KES:125.00,UGX:300`: the control totals as the batch API's `control_total` takes them, currencies sorted. */
export function controlTotalOf(totals: ReadonlyMap<string, bigint>): string {
  return [...totals].sort(([a], [b]) => a.localeCompare(b)).map(([currency, minor]) => `${currency}:${formatMoney({ minor, currency })}`).join(',');
}
