import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { parseCamt054 } from '../../adapters/bank-iso20022/camt.ts';
import { parseMt940 } from '../../adapters/bank-iso20022/mt940.ts';
import { camtLines, mt940Lines, readStatementFile, type StatementFile } from '../../src/http/statement-file.ts';
import type { StatementLine } from '../../src/domain/statement.ts';
import { fixture } from '../fixtures/iso20022/support.ts';

const HEADER = 'booking_date,value_date,direction,amount,currency,end_to_end_id,rail_reference,counterparty,counterparty_account,reversal,reason_code,batch_end_to_end_ids';

/** The body as an HTTP request delivers it: in pieces of `size` bytes. */
async function* pieces(text: string | Buffer, size = 7): AsyncGenerator<Buffer> {
  const bytes = Buffer.isBuffer(text) ? text : Buffer.from(text);
  for (let start = 0; start < bytes.length; start += size) yield bytes.subarray(start, start + size);
}

async function linesOf(file: StatementFile): Promise<StatementLine[]> {
  const lines: StatementLine[] = [];
  for await (const chunk of file.chunks) lines.push(...chunk);
  return lines;
}

async function refused(text: string): Promise<{ field: string; reason: string }[]> {
  try {
    await linesOf(await readStatementFile(pieces(text, text.length > 100_000 ? 65_536 : 7), { maxWholeFileBytes: 1e7 }));
  } catch (error) {
    return (error as { errors: { field: string; reason: string }[] }).errors;
  }
  assert.fail('the file was accepted');
}

describe('statement files', () => {
  it('when a CSV quotes names with commas, quotes and line breaks, then each field is read whole and its hash is the file’s', async () => {
    const text = `\uFEFF${HEADER}\r\n2026-11-20,,debit,125.50,EUR,E2E1,R-1,"Groß, Jürgen ""Jü""",DE89370400440532013000,false,,\r\n2026-11-20,2026-11-21,credit,80.00,EUR,E2E2,R-2,"Zoë
Ñandú",,true,AC04,\r\n`;
    const file = await readStatementFile(pieces(text), { maxWholeFileBytes: 1e7 });
    const lines = await linesOf(file);

    assert.equal(file.format, 'csv');
    assert.deepEqual(lines, [
      { amount: { minor: 12_550n, currency: 'EUR' }, direction: 'debit', bookingDate: '2026-11-20', valueDate: '2026-11-20', railReference: 'R-1', reversal: false, railKey: 'E2E1', counterparty: 'Groß, Jürgen "Jü"', counterpartyAccount: 'DE89370400440532013000' },
      { amount: { minor: 8_000n, currency: 'EUR' }, direction: 'credit', bookingDate: '2026-11-20', valueDate: '2026-11-21', railReference: 'R-2', reversal: true, railKey: 'E2E2', counterparty: 'Zoë\nÑandú', reasonCode: 'AC04' },
    ]);
    assert.equal(file.hash(), createHash('sha256').update(text).digest('hex'));
  });

  it('when a CSV line is a bulk booking, then it keeps the end-to-end ids it lists, or its count', async () => {
    const lines = await linesOf(await readStatementFile(pieces(`${HEADER},batch_count,batch_reference\n2026-11-20,,DBIT,30.00,EUR,,B-1,,,,,A1 A2|A3,,PMT-1\n2026-11-20,,D,99.00,EUR,,B-2,,,,,,4,PMT-2\n`), { maxWholeFileBytes: 1e7 }));

    assert.deepEqual(lines.map((line) => [line.batchCount, line.batchKeys, line.batchReference, line.railKey]), [[3, ['A1', 'A2', 'A3'], 'PMT-1', undefined], [4, undefined, 'PMT-2', undefined]]);
  });

  it('when a large CSV has a wrong line far in, then the error names that line, counted across blank lines and line breaks in quotes', async () => {
    const good = (index: number) => `2026-11-20,,debit,1.00,EUR,K${index},R${index},,,false,,`;
    const rows: string[] = [HEADER];
    for (let index = 0; index < 60_000; index++) rows.push(good(index));
    rows.push('', '2026-11-20,,debit,1.00,EUR,Q1,RQ,"two', 'lines",,false,,');
    rows.push('2026-11-20,,debit,1.000,EUR,BAD,RB,,,false,,');
    const errors = await refused(`${rows.join('\n')}\n`);

    assert.deepEqual(errors.map((error) => error.field), [`file line ${rows.length}`]);
    assert.match(errors[0]!.reason, /EUR has 2 decimal places; "1\.000" has 3/);
  });

  it('when a CSV line has another number of fields than the header, or a date that does not exist, then the error names it', async () => {
    assert.deepEqual(await refused(`${HEADER}\n2026-11-20,,debit,1.00,EUR,K,R,,,false\n`), [{ field: 'file line 2', reason: 'has 10 fields where the header names 12' }]);
    const [error] = await refused(`${HEADER}\n2026-02-30,,debit,1.00,EUR,K,R,,,false,,\n`);
    assert.deepEqual([error!.field, error!.reason], ['file line 2', 'booking_date "2026-02-30" is not a date (YYYY-MM-DD)']);
    assert.deepEqual((await refused(`${HEADER}\n2026-11-20,,sideways,1.00,XXX,K,,,,maybe,,\n`))[0]!.reason,
      'direction "sideways" is neither credit nor debit; currency "XXX" is not an ISO 4217 currency code; rail_reference is empty: every booking needs the bank\'s reference; reversal "maybe" is neither true nor false');
    assert.deepEqual(await refused(''), [{ field: 'file', reason: 'the file is empty' }]);
  });

  it('when camt.054 entries are mapped, then pending ones are left out and a return keeps its reason and its debtor-side name', () => {
    const lines = camtLines(parseCamt054(fixture('camt054-notification.xml')));
    assert.ok(lines.length > 0);
    assert.ok(lines.every((line) => line.bookingDate !== undefined));
    const returned = lines.find((line) => line.reversal)!;
    assert.deepEqual([returned.railKey, returned.reasonCode, returned.direction], ['E2E0007', 'MD07', 'credit']);
  });

  it('when MT940 lines are mapped, then a batch keeps its count and reference and names keep their letters', () => {
    const lines = mt940Lines(parseMt940(fixture('mt940-two-statements.sta')));
    assert.deepEqual([lines[0]!.batchCount, lines[0]!.batchReference, lines[0]!.railKey], [3, 'K00LTSB2Q8A1B2C3', undefined]);
    assert.deepEqual([lines[2]!.counterparty, lines[2]!.reasonCode, lines[2]!.reversal], ['Jürgen Groß', 'AC04', true]);
    assert.equal(lines[1]!.counterpartyAccount, 'GR1601101250000000012300695');
  });

  it('when an XML statement is larger than the limit, then it is refused as too large rather than read', async () => {
    await assert.rejects(readStatementFile(pieces(fixture('camt053-two-statements.xml'), 1000), { maxWholeFileBytes: 2048 }), { status: 413, code: 'payload_too_large' });
  });
});
