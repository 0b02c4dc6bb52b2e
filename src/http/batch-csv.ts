import type { Readable } from 'node:stream';
import { parse } from 'csv-parse';
import type { BatchRowInput } from '../domain/batch.ts';
import { ValidationError } from '../domain/errors.ts';
import type { Party, PartyType } from '../domain/order.ts';

/** The GovStack bulk-payment file's columns; Kassa's own CSV batches use the same file. */
export const BATCH_CSV_COLUMNS = ['id', 'request_id', 'payment_mode', 'payer_identifier_type', 'payer_identifier', 'payee_identifier_type', 'payee_identifier', 'amount', 'currency', 'note'] as const;
const REQUIRED_COLUMNS = ['payee_identifier_type', 'payee_identifier', 'amount', 'currency'] as const;

/** Identifier types a file may name: an account to pay directly, or a functional ID for the account mapper. */
const ACCOUNT_TYPES: Readonly<Record<string, PartyType>> = {
  MSISDN: 'msisdn', IBAN: 'iban', ACCOUNT: 'bank_account', ACCOUNTID: 'bank_account', ACCOUNT_ID: 'bank_account', BANK_ACCOUNT: 'bank_account',
};
const FUNCTIONAL_ID_TYPES = new Set(['FUNCTIONAL_ID', 'FUNCTIONALID', 'NATIONAL_ID', 'NATIONALID', 'ID', 'PAYEE_IDENTITY', 'PAYEEIDENTITY']);

/**
 * Reads a batch file as a stream of instructions: csv-parse hands over one record at a time, so a file of a
 * million rows never sits in memory. A file that is not CSV, or lacks a required column, stops with the line.
 */
export async function* batchRowsFromCsv(body: Readable): AsyncGenerator<BatchRowInput> {
  const parser = body.pipe(parse({ columns: (header: string[]) => checkedHeader(header), bom: true, skip_empty_lines: true, trim: true }));
  try {
    for await (const record of parser as AsyncIterable<Record<string, string>>) {
      yield rowOf(record);
    }
  } catch (error) {
    if (error instanceof ValidationError) throw error;
    const failure = error as { message: string; lines?: number };
    throw new ValidationError([{ field: `file line ${failure.lines ?? '?'}`, reason: failure.message }]);
  } finally {
    body.unpipe(parser);
    if (!body.readableEnded) body.resume();
  }
}

function checkedHeader(header: string[]): string[] {
  const columns = header.map((name) => name.trim().toLowerCase());
  const missing = REQUIRED_COLUMNS.filter((name) => !columns.includes(name));
  if (missing.length > 0 || !(columns.includes('id') || columns.includes('request_id'))) {
    throw new ValidationError([{ field: 'file line 1', reason: `the header must name the columns ${BATCH_CSV_COLUMNS.join(',')}; missing: ${[...missing, ...(columns.includes('id') || columns.includes('request_id') ? [] : ['id or request_id'])].join(', ')}` }]);
  }
  return columns;
}

function rowOf(record: Record<string, string>): BatchRowInput {
  const payee = identified(record.payee_identifier_type, record.payee_identifier);
  const payer = identified(record.payer_identifier_type, record.payer_identifier);
  return {
    instructionId: record.request_id || record.id || '',
    ...(payee && 'identity' in payee ? { payeeIdentity: payee.identity } : {}),
    ...(payee && 'party' in payee ? { payee: payee.party } : {}),
    ...(payer && 'party' in payer ? { payer: payer.party } : {}),
    amount: record.amount ?? '',
    currency: record.currency ?? '',
    ...(record.note ? { note: record.note } : {}),
  };
}

/** An identifier type and value as a file or a GovStack party list names them: an account, a functional ID, or nothing Kassa knows. */
export function identified(type: string | undefined, value: string | undefined): { party: Party } | { identity: string } | undefined {
  if (!type || !value) return undefined;
  const normalised = type.toUpperCase();
  if (FUNCTIONAL_ID_TYPES.has(normalised)) return { identity: value };
  const partyType = ACCOUNT_TYPES[normalised];
  return partyType ? { party: { type: partyType, value } } : undefined;
}
