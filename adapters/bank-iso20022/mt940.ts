import type { Money } from '../../src/domain/money.ts';
import type { RailStatementEntry } from '../contract.ts';
import { parseMt940Amount } from './amounts.ts';
import type { Direction } from './camt.ts';

/**
 * SWIFT MT940 customer statements, as many banks still send them: one or more messages (plain, or
 * wrapped in {1:}{2:}{4: … -} blocks), each with :20: reference, :25: account, :28C: statement
 * number, :60F:/:60M: opening balance, :61: statement lines (each optionally followed by :86:
 * information), :62F:/:62M: closing balance. Amounts use a decimal comma. Marks: C credit, D debit,
 * RD reversal of a debit (money back: a credit), RC reversal of a credit (a debit). The :86:
 * information is read for the structured codes /EREF/ (end-to-end id), /RTRN/ (return reason),
 * /NAME/, /IBAN/, /REMI/, /PREF/, /NBTX/. Every statement must add up: opening balance plus its
 * lines equals the closing balance. Errors name the line.
 */

export interface Mt940Balance {
  readonly direction: Direction;
  readonly date: string;
  readonly amount: Money;
}

export interface Mt940Entry {
  /** The line of the :61: field. */
  readonly line: number;
  readonly valueDate: string;
  readonly bookingDate: string;
  readonly mark: 'C' | 'D' | 'RC' | 'RD';
  readonly direction: Direction;
  readonly reversal: boolean;
  readonly amount: Money;
  /** e.g. NTRF, NMSC. */
  readonly transactionType: string;
  readonly customerReference: string;
  readonly bankReference?: string;
  readonly supplementaryDetails?: string;
  /** :86: with its lines joined. */
  readonly information?: string;
  /** The structured codes found in :86: (EREF, RTRN, NAME, IBAN, REMI, PREF, NBTX…). */
  readonly codes: Readonly<Record<string, string>>;
}

export interface Mt940Statement {
  /** The line of the :20: field. */
  readonly line: number;
  readonly reference: string;
  readonly account: string;
  readonly statementNumber: string;
  readonly currency: string;
  readonly openingBalance: Mt940Balance;
  readonly closingBalance: Mt940Balance;
  readonly entries: readonly Mt940Entry[];
}

export class Mt940FormatError extends Error {
  override name = 'Mt940FormatError';
}

interface Field {
  readonly tag: string;
  readonly line: number;
  value: string;
}

const STRUCTURED_CODES = ['EREF', 'RTRN', 'NAME', 'IBAN', 'BIC', 'REMI', 'PREF', 'NBTX', 'CREF', 'PURP'];
const CODE_MARKER = new RegExp(`/(${STRUCTURED_CODES.join('|')})/`, 'g');

export function parseMt940(input: string | Buffer): Mt940Statement[] {
  const text = (typeof input === 'string' ? input : input.toString('utf8')).replace(/^\uFEFF/, '');
  const messages = splitMessages(text);
  if (messages.length === 0) throw new Mt940FormatError('MT940: the file holds no statement (no :20: field)');
  return messages.map(statement);
}

function splitMessages(text: string): Field[][] {
  const messages: Field[][] = [];
  let current: Field[] = [];
  const finish = () => {
    if (current.length > 0) messages.push(current);
    current = [];
  };
  const lines = text.split(/\r\n|\r|\n/);
  for (let index = 0; index < lines.length; index++) {
    const number = index + 1;
    let line = lines[index]!.trimEnd();
    if (line.startsWith('{')) {
      // SWIFT envelope: {1:…}{2:…}{3:…}{4: opens a message; {5:…} trails it.
      const block = /^(?:\{[1-3]:(?:[^{}]|\{[^{}]*\})*\})*\{4:(.*)$/.exec(line);
      if (block) {
        finish();
        line = block[1]!.trim();
        if (line === '') continue;
      } else if (/^\{5:/.test(line)) {
        continue;
      } else {
        throw new Mt940FormatError(`MT940 line ${number}: unreadable SWIFT block "${snippet(line)}"`);
      }
    }
    if (line.trim() === '') continue;
    if (line === '-' || line.startsWith('-}')) {
      finish();
      continue;
    }
    const tag = /^:(\d{2}[A-Z]?):(.*)$/.exec(line);
    if (tag) {
      if (tag[1] === '20') finish();
      current.push({ tag: tag[1]!, line: number, value: tag[2]! });
      continue;
    }
    const last = current.at(-1);
    if (!last) throw new Mt940FormatError(`MT940 line ${number}: expected a field such as :20:, found "${snippet(line)}"`);
    last.value += `\n${line}`;
  }
  finish();
  return messages;
}

function statement(fields: Field[]): Mt940Statement {
  const first = fields[0]!;
  if (first.tag !== '20') throw new Mt940FormatError(`MT940 line ${first.line}: a statement must start with :20:, found :${first.tag}:`);
  const where = `MT940 statement at line ${first.line}`;
  const reference = first.value.trim();
  if (reference === '' || reference.length > 16) throw new Mt940FormatError(`MT940 line ${first.line}: :20: reference must be 1 to 16 characters`);

  let account: string | undefined;
  let statementNumber: string | undefined;
  let opening: (Mt940Balance & { currency: string }) | undefined;
  let closing: (Mt940Balance & { currency: string; line: number }) | undefined;
  const lines: { field: Field; information?: Field }[] = [];
  for (const field of fields.slice(1)) {
    switch (field.tag) {
      case '25':
        account = field.value.trim();
        break;
      case '28':
      case '28C':
        statementNumber = field.value.trim();
        if (!/^\d{1,5}(\/\d{1,5})?$/.test(statementNumber)) throw lineError(field, `statement number "${statementNumber}" is not 5n[/5n]`);
        break;
      case '60F':
      case '60M':
        if (opening) throw lineError(field, 'a second opening balance');
        opening = balance(field);
        break;
      case '61':
        if (!opening) throw lineError(field, ':61: before the opening balance :60F:');
        if (closing) throw lineError(field, ':61: after the closing balance');
        lines.push({ field });
        break;
      case '86': {
        const last = lines.at(-1);
        if (last && !last.information && !closing) last.information = field; // else: information about the whole statement
        break;
      }
      case '62F':
      case '62M':
        if (closing) throw lineError(field, 'a second closing balance');
        closing = { ...balance(field), line: field.line };
        break;
      default:
        break; // :21:, :64:, :65: and others carry nothing Kassa needs
    }
  }
  if (account === undefined || account === '') throw new Mt940FormatError(`${where}: :25: account identification is missing`);
  if (statementNumber === undefined) throw new Mt940FormatError(`${where}: :28C: statement number is missing`);
  if (!opening) throw new Mt940FormatError(`${where}: :60F: opening balance is missing`);
  if (!closing) throw new Mt940FormatError(`${where}: :62F: closing balance is missing`);
  if (closing.currency !== opening.currency) {
    throw new Mt940FormatError(`MT940 line ${closing.line}: closing balance currency ${closing.currency} differs from the opening balance's ${opening.currency}`);
  }
  const currency = opening.currency;
  const entries = lines.map(({ field, information }) => statementLine(field, information, currency));

  let running = signed(opening);
  for (const e of entries) running += e.direction === 'credit' ? e.amount.minor : -e.amount.minor;
  if (running !== signed(closing)) {
    throw new Mt940FormatError(
      `MT940 line ${closing.line}: closing balance ${signed(closing)} (minor units) is not the opening balance plus the statement lines (${running})`,
    );
  }
  return {
    line: first.line,
    reference,
    account,
    statementNumber,
    currency,
    openingBalance: { direction: opening.direction, date: opening.date, amount: opening.amount },
    closingBalance: { direction: closing.direction, date: closing.date, amount: closing.amount },
    entries,
  };
}

function signed(balance: Mt940Balance): bigint {
  return balance.direction === 'credit' ? balance.amount.minor : -balance.amount.minor;
}

function balance(field: Field): Mt940Balance & { currency: string } {
  const match = /^([CD])(\d{6})([A-Z]{3})([\d,]+)$/.exec(field.value.trim());
  if (!match) throw lineError(field, `balance "${snippet(field.value)}" is not <C|D><YYMMDD><currency><amount>`);
  const [, mark, date, currency, amount] = match;
  return { direction: mark === 'C' ? 'credit' : 'debit', date: swiftDate(date!, field), currency: currency!, amount: money(amount!, currency!, field) };
}

function statementLine(field: Field, information: Field | undefined, currency: string): Mt940Entry {
  const [first = '', supplementary] = field.value.split('\n');
  const match = /^(\d{6})(\d{4})?(RC|RD|C|D)([A-Z])?(\d[\d,]*)([NSF][A-Z0-9]{3})(.*)$/.exec(first);
  if (!match) {
    throw lineError(field, `statement line "${snippet(first)}" is not <YYMMDD>[MMDD]<C|D|RC|RD>[funds code]<amount><type><reference>[//bank reference]`);
  }
  const [, value, entry, mark, , amountText, transactionType, references = ''] = match;
  const valueDate = swiftDate(value!, field);
  const bookingDate = entry ? entryDate(valueDate, entry, field) : valueDate;
  const separator = references.indexOf('//');
  const customerReference = (separator === -1 ? references : references.slice(0, separator)).trim();
  const bankReference = separator === -1 ? undefined : references.slice(separator + 2).trim() || undefined;
  if (customerReference === '' || customerReference.length > 16) throw lineError(field, `reference for the account owner "${customerReference}" must be 1 to 16 characters`);
  if (bankReference !== undefined && bankReference.length > 16) throw lineError(field, `bank reference "${bankReference}" is longer than 16 characters`);
  const info = information?.value.split('\n').join('');
  const kind = mark as Mt940Entry['mark'];
  return {
    line: field.line,
    valueDate,
    bookingDate,
    mark: kind,
    direction: kind === 'C' || kind === 'RD' ? 'credit' : 'debit',
    reversal: kind === 'RC' || kind === 'RD',
    amount: money(amountText!, currency, field),
    transactionType: transactionType!,
    customerReference,
    codes: info ? structuredCodes(info) : {},
    ...(bankReference !== undefined && { bankReference }),
    ...(supplementary !== undefined && supplementary.trim() !== '' && { supplementaryDetails: supplementary.trim() }),
    ...(info !== undefined && { information: info }),
  };
}

function structuredCodes(information: string): Record<string, string> {
  const codes: Record<string, string> = {};
  const markers = [...information.matchAll(CODE_MARKER)];
  markers.forEach((marker, i) => {
    const start = marker.index + marker[0].length;
    const end = markers[i + 1]?.index ?? information.length;
    const value = information.slice(start, end).replace(/\/+$/, '').trim();
    if (value !== '' && !Object.hasOwn(codes, marker[1]!)) codes[marker[1]!] = value;
  });
  return codes;
}

function money(text: string, currency: string, field: Field): Money {
  try {
    return parseMt940Amount(text, currency);
  } catch (error) {
    throw lineError(field, (error as Error).message);
  }
}

function swiftDate(text: string, field: Field): string {
  const year = Number(text.slice(0, 2));
  const iso = `${year >= 80 ? 1900 + year : 2000 + year}-${text.slice(2, 4)}-${text.slice(4, 6)}`;
  if (!validDate(iso)) throw lineError(field, `"${text}" is not a date (YYMMDD)`);
  return iso;
}

/** The entry date (MMDD) takes the value date's year, or the neighbouring one across a year end. */
function entryDate(valueDate: string, mmdd: string, field: Field): string {
  let year = Number(valueDate.slice(0, 4));
  const valueMonth = Number(valueDate.slice(5, 7));
  const entryMonth = Number(mmdd.slice(0, 2));
  if (valueMonth === 1 && entryMonth === 12) year -= 1;
  if (valueMonth === 12 && entryMonth === 1) year += 1;
  const iso = `${year}-${mmdd.slice(0, 2)}-${mmdd.slice(2, 4)}`;
  if (!validDate(iso)) throw lineError(field, `entry date "${mmdd}" is not a date (MMDD)`);
  return iso;
}

function validDate(iso: string): boolean {
  const date = new Date(`${iso}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === iso;
}

function lineError(field: Field, problem: string): Mt940FormatError {
  return new Mt940FormatError(`MT940 line ${field.line}: :${field.tag}: ${problem}`);
}

function snippet(text: string): string {
  const line = text.split('\n')[0] ?? '';
  return line.length > 60 ? `${line.slice(0, 57)}...` : line;
}

/**
 * Kassa's statement entries from MT940 statements. MT940 has no room for a batch's end-to-end ids:
 * a batch line (/NBTX/ above 1) carries its bank reference and total only.
 */
export function statementEntriesFromMt940(statements: readonly Mt940Statement[]): RailStatementEntry[] {
  const entries: RailStatementEntry[] = [];
  for (const s of statements) {
    s.entries.forEach((e, index) => {
      const railReference = e.bankReference ?? (e.customerReference !== 'NONREF' ? e.customerReference : `${s.reference}/${index + 1}`);
      const batch = e.codes.NBTX !== undefined && e.codes.NBTX !== '1';
      const railKey = e.codes.EREF !== undefined && e.codes.EREF !== 'NOTPROVIDED' && !batch ? e.codes.EREF : undefined;
      const counterparty = e.codes.NAME ?? e.codes.IBAN;
      entries.push({
        railReference,
        amount: e.amount,
        direction: e.direction,
        bookingDate: e.bookingDate,
        valueDate: e.valueDate,
        reversal: e.reversal,
        ...(railKey !== undefined && { railKey }),
        ...(counterparty !== undefined && { counterparty }),
        ...(e.codes.RTRN !== undefined && { reasonCode: e.codes.RTRN }),
        ...(batch && /^\d{1,9}$/.test(e.codes.NBTX!) && { batchCount: Number(e.codes.NBTX) }),
      });
    });
  }
  return entries;
}
