import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { batchRowsFromCsv } from '../../src/http/batch-csv.ts';
import { ValidationError } from '../../src/domain/errors.ts';

const HEADER = 'id,request_id,payment_mode,payer_identifier_type,payer_identifier,payee_identifier_type,payee_identifier,amount,currency,note\n';

/** A file of `rows` lines that is only written as fast as it is read, counting the lines it has handed out. */
function lazyFile(rows: number): { stream: Readable; linesProduced: () => number } {
  let produced = 0;
  function* lines() {
    yield HEADER;
    for (; produced < rows; produced += 1) yield `${produced + 1},R${produced},,,,MSISDN,+25471${String(produced).padStart(7, '0')},1.00,KES,grant\n`;
  }
  return { stream: Readable.from(lines(), { objectMode: false, highWaterMark: 16 * 1024 }), linesProduced: () => produced };
}

describe('reading a batch file', () => {
  it('when a million-row file is read, then rows are pulled as they are consumed and never read ahead beyond the stream buffers', async () => {
    const file = lazyFile(1_000_000);
    let consumed = 0;
    for await (const row of batchRowsFromCsv(file.stream)) {
      consumed += 1;
      assert.equal(row.payee?.type, 'msisdn');
      if (consumed === 5000) break;
    }
    // What was produced beyond what was consumed is what fits in the stream buffers (a few thousand short lines), not the file.
    assert.ok(file.linesProduced() - consumed < 5000, `read ahead ${file.linesProduced() - consumed} lines`);
  });

  it('when the header lacks a required column, then the first line is named and no row comes out', async () => {
    const rows = batchRowsFromCsv(Readable.from(['id,amount,currency\n1,1.00,KES\n']));
    await assert.rejects(async () => {
      for await (const _row of rows) assert.fail('no row may come out of a file without payees');
    }, (error: unknown) => error instanceof ValidationError && error.errors[0]!.field === 'file line 1' && /payee_identifier/.test(error.errors[0]!.reason));
  });

  it('when a line has more fields than the header, then the error names its line', async () => {
    const rows = batchRowsFromCsv(Readable.from([HEADER, '1,R1,,,,MSISDN,+254711111111,1.00,KES,grant\n', '2,R2,,,,MSISDN,+254711111112,1.00,KES,grant,extra\n']));
    await assert.rejects(async () => {
      for await (const _row of rows) continue;
    }, (error: unknown) => error instanceof ValidationError && error.errors[0]!.field === 'file line 3');
  });

  it('when rows name a functional ID or an account, then the first goes to the account mapper and the second is paid as given', async () => {
    const rows = [];
    for await (const row of batchRowsFromCsv(Readable.from([HEADER, '1,A,,,,FUNCTIONAL_ID,NID1,5.00,KES,x\n', '2,B,,IBAN,GB82WEST12345698765432,IBAN,DE89370400440532013000,6.00,EUR,\n']))) rows.push(row);
    assert.deepEqual(rows[0], { instructionId: 'A', payeeIdentity: 'NID1', amount: '5.00', currency: 'KES', note: 'x' });
    assert.deepEqual(rows[1], { instructionId: 'B', payee: { type: 'iban', value: 'DE89370400440532013000' }, payer: { type: 'iban', value: 'GB82WEST12345698765432' }, amount: '6.00', currency: 'EUR' });
  });
});
