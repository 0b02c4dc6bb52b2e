import { createWriteStream } from 'node:fs';
import { basename } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { loadCliClientConfig, type CliClientOverrides } from '../config/cli-client.ts';
import { formatMoney, parseMoney } from '../domain/money.ts';
import { BatchClient, KassaApiError, type BatchView, type OutcomeTotals } from './batch-client.ts';
import { BatchFileError, controlTotalOf, summariseBatchFile } from './batch-file.ts';
import { humanBytes, progress } from './progress.ts';
import { exitNow, reportingProblems } from './reporting-problems.ts';

/** A batch file that cannot be read or summed is the user's problem to fix, not a fault. */
const reportingBatchProblems = (command: () => Promise<void>) => reportingProblems(command, (error) => error instanceof BatchFileError);

/**
 * `kassa batch …`: an agency's batch file, end to end, against a running Kassa over HTTP. Results go to stdout,
 * progress and notes to stderr. Exit codes: 0 the batch finished (or waits for a checker, or is scheduled);
 * 1 Kassa answered a problem, could not be reached, or the file cannot be read; 2 the batch was rejected or
 * cancelled; 78 a setting is missing or wrong; 130 interrupted while waiting (the batch goes on).
 */

export type ClientOptions = CliClientOverrides;

/** `kassa batch submit | status | failures | approve`, on the program's commander instance. */
export function registerBatchCommands(program: Command): void {
  const batch = program.command('batch').description('submit a CSV batch of benefit payments to a running Kassa and follow it (KASSA_URL, KASSA_API_KEY)');
  const client = (command: Command) =>
    command
      .option('--url <url>', 'the Kassa API (default: KASSA_URL, else http://127.0.0.1:8080)')
      .option('--key <key>', 'the API key (default: KASSA_API_KEY)');
  client(
    batch
      .command('submit')
      .description('upload a CSV file as one batch (control sums computed from the file), then follow its payments')
      .argument('<file>', 'CSV: id,request_id,payment_mode,payer_identifier_type,payer_identifier,payee_identifier_type,payee_identifier,amount,currency,note')
      .requiredOption('--program <code>', 'the program that pays the batch')
      .option('--correlation-id <id>', "the batch's idempotency key (default: sha256 of the program and the file)", correlationIdOption)
      .addOption(new Option('--execute-at <iso>', 'pay from this moment (ISO 8601), not at once').argParser(isoDateOption))
      .option('--reference <text>', "the agency's reference for the batch")
      .option('--callback-url <url>', 'where Kassa pushes the batch milestones')
      .option('--no-wait', 'return once the batch is accepted'),
  ).action((file: string, options: SubmitOptions) => runBatchSubmit(file, options));
  client(batch.command('status').description('where the batch stands: counts and amounts per outcome, funds').argument('<id>', 'batch id').option('--json', 'the batch as the API shows it'))
    .action((id: string, options: ClientOptions & { json?: boolean }) => runBatchStatus(id, options));
  client(
    batch
      .command('failures')
      .description('the rows not paid (invalid, failed, cancelled) with their reason codes')
      .argument('<id>', 'batch id')
      .option('--csv', 'as the CSV failures file for the agency to act on')
      .option('--output <file>', 'write to this file instead of stdout'),
  ).action((id: string, options: ClientOptions & { csv?: boolean; output?: string }) => runBatchFailures(id, options));
  client(batch.command('approve').description("release a batch awaiting approval (a checker's credential: benefits:approve, not the submitter's)").argument('<id>', 'batch id'))
    .action((id: string, options: ClientOptions) => runBatchApprove(id, options));
}

function correlationIdOption(value: string): string {
  if (!/^[\x21-\x7e]{1,255}$/.test(value)) throw new InvalidArgumentError('must be 1–255 visible ASCII characters');
  return value;
}

function isoDateOption(value: string): string {
  if (!/^\d{4}-\d{2}-\d{2}T/.test(value) || Number.isNaN(Date.parse(value))) throw new InvalidArgumentError('must be an ISO 8601 date and time such as 2026-12-01T08:00:00Z');
  return value;
}

export interface SubmitOptions extends ClientOptions {
  readonly program: string;
  readonly correlationId?: string;
  readonly executeAt?: string;
  readonly reference?: string;
  readonly callbackUrl?: string;
  /** false with --no-wait */
  readonly wait: boolean;
}

const EXIT_NOT_PAID = 2;
const EXIT_INTERRUPTED = 130;
const POLL_MS = 500;
/** A batch scheduled further ahead than this is not waited for. */
const SCHEDULED_WAIT_LIMIT_MS = 60_000;

export async function runBatchSubmit(file: string, options: SubmitOptions): Promise<void> {
  await reportingBatchProblems(async () => {
    const client = new BatchClient(loadCliClientConfig(options));
    const summary = await summariseBatchFile(file, options.program);
    const controlTotal = controlTotalOf(summary.totals);
    const correlationId = options.correlationId ?? summary.correlationId;
    out(`file:           ${basename(file)} — ${summary.count} rows, ${[...summary.totals].map(([currency, minor]) => `${currency} ${formatMoney({ minor, currency })}`).join(', ')}`);
    if (summary.unreadableAmounts > 0) note(`${summary.unreadableAmounts} row(s) have an amount or currency Kassa will refuse; they are counted and reported invalid, and are in no total`);
    out(`correlation id: ${correlationId}${options.correlationId ? '' : ' (the same file for the same program finds the same batch again)'}`);

    const upload = progress('upload');
    let submitted: Awaited<ReturnType<BatchClient['submitCsv']>>;
    try {
      submitted = await client.submitCsv(
        file,
        { program: options.program, controlCount: summary.count, controlTotal, correlationId, reference: options.reference, executeAt: options.executeAt, callbackUrl: options.callbackUrl },
        (sent) => upload.update(sent, summary.bytes, `${humanBytes(sent)} of ${humanBytes(summary.bytes)}`),
      );
    } finally {
      upload.stop();
    }
    const { batch, replayed } = submitted;
    out(`batch:          ${batch.id}${replayed ? ' (submitted earlier under this correlation id: nothing is paid twice)' : ''}`);
    if (!options.wait) {
      out(`status:         ${batch.status}`);
      out(`follow it with: kassa batch status ${batch.id}`);
      return;
    }
    const final = await waitForBatch(client, batch);
    out(`status:         ${final.status}`);
    finish(final);
  });
}

export async function runBatchStatus(id: string, options: ClientOptions & { readonly json?: boolean }): Promise<void> {
  await reportingBatchProblems(async () => {
    const batch = await new BatchClient(loadCliClientConfig(options)).batch(id);
    if (options.json) {
      out(JSON.stringify(batch, null, 2));
      return;
    }
    const money = (amount: string) => `${batch.currency} ${amount}`;
    const outcome = (label: string, totals: OutcomeTotals) => out(`  ${label.padEnd(13)}${String(totals.count).padStart(8)}  ${money(totals.amount)}`);
    out(`batch ${batch.id}: ${batch.status}`);
    if (batch.reference) out(`  reference    ${batch.reference}`);
    out(`  rows         ${String(batch.rows).padStart(8)}  (valid ${batch.validation.valid}, invalid ${batch.validation.invalid}; valid total ${money(batch.validation.valid_total)})`);
    outcome('completed', batch.payments.completed);
    outcome('failed', batch.payments.failed);
    outcome('cancelled', batch.payments.cancelled);
    outcome('in progress', batch.payments.in_progress);
    outcome('not sent', batch.payments.not_sent);
    out(`  funds        blocked ${money(batch.funds.blocked)}, disbursed ${money(batch.funds.disbursed)}`);
    if (batch.approval) out(`  approved by  ${batch.approval.approved_by ?? '?'} at ${batch.approval.approved_at ?? '?'}`);
    if (batch.execute_at) out(`  execute at   ${batch.execute_at}`);
    if (batch.rejection) out(`  rejected     ${batch.rejection.code}: ${batch.rejection.reason ?? ''}`);
    if (batch.status === 'awaiting_approval') out(`  ${whoApproves(batch)}`);
  });
}

export async function runBatchFailures(id: string, options: ClientOptions & { readonly csv?: boolean; readonly output?: string }): Promise<void> {
  await reportingBatchProblems(async () => {
    const client = new BatchClient(loadCliClientConfig(options));
    if (options.csv) {
      const file = await client.unpaidCsv(id);
      if (options.output) {
        await pipeline(file, createWriteStream(options.output));
        note(`wrote the payments of batch ${id} that were not paid to ${options.output}`);
      } else {
        await pipeline(file, process.stdout, { end: false });
      }
      return;
    }
    const lines: string[] = [];
    for (let after: number | null = 0; after !== null; ) {
      const page = await client.unpaidRows(id, after);
      for (const row of page.data) {
        lines.push(`row ${row.row}\t${row.instruction_id}\t${row.currency} ${row.amount ?? '-'}\t${row.outcome}\t${row.reason ? `${row.reason.code} ${row.reason.detail ?? ''}`.trim() : ''}`);
      }
      after = page.next_after_row;
    }
    const text = `${lines.join('\n')}${lines.length ? '\n' : ''}`;
    if (options.output) {
      await pipeline([text], createWriteStream(options.output));
      note(`wrote ${lines.length} unpaid row(s) to ${options.output}`);
    } else {
      process.stdout.write(text);
      note(`${lines.length} row(s) not paid${lines.length ? `; as a file to act on: kassa batch failures ${id} --csv --output FILE` : ''}`);
    }
  });
}

export async function runBatchApprove(id: string, options: ClientOptions): Promise<void> {
  await reportingBatchProblems(async () => {
    const batch = await new BatchClient(loadCliClientConfig(options)).approve(id);
    out(`batch ${batch.id} approved: ${batch.status}, ${batch.currency} ${batch.funds.blocked} blocked on the program's budget`);
  });
}

/** Polls the batch, with a bar over the payments that reached a final outcome, until there is nothing left to wait for. */
async function waitForBatch(client: BatchClient, submitted: BatchView): Promise<BatchView> {
  const bar = progress('payments');
  let interrupted = false;
  const onInterrupt = () => {
    interrupted = true;
  };
  process.once('SIGINT', onInterrupt);
  let lastStatus = '';
  try {
    for (let batch = submitted; ; batch = await client.batch(submitted.id)) {
      if (batch.status !== lastStatus && !process.stderr.isTTY) note(`batch ${batch.status}`);
      lastStatus = batch.status;
      const final = batch.payments.completed.count + batch.payments.failed.count + batch.payments.cancelled.count;
      const total = batch.status === 'validating' ? batch.rows : batch.validation.valid;
      bar.update(final, total, `${final} of ${total} final — paid ${batch.payments.completed.count}, failed ${batch.payments.failed.count} (${batch.status})`);
      if (isSettled(batch)) return batch;
      if (interrupted) {
        bar.stop();
        note(`stopped waiting; batch ${batch.id} goes on. Follow it with: kassa batch status ${batch.id}`);
        exitNow(EXIT_INTERRUPTED);
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  } finally {
    bar.stop();
    process.removeListener('SIGINT', onInterrupt);
  }
}

function isSettled(batch: BatchView): boolean {
  if (['completed', 'rejected', 'cancelled', 'awaiting_approval'].includes(batch.status)) return true;
  return batch.status === 'scheduled' && batch.execute_at !== null && Date.parse(batch.execute_at) - Date.now() > SCHEDULED_WAIT_LIMIT_MS;
}

/** The closing lines of `batch submit`, and the exit code they imply. */
function finish(batch: BatchView): void {
  const money = (amount: string) => `${batch.currency} ${amount}`;
  if (batch.status === 'awaiting_approval') {
    out(`waiting for:    approval of ${money(batch.validation.valid_total)} in ${batch.validation.valid} payments — ${whoApproves(batch)}`);
    return;
  }
  if (batch.status === 'scheduled') {
    out(`scheduled:      to be paid from ${batch.execute_at}; ${money(batch.funds.blocked)} blocked on the program's budget. Follow it with: kassa batch status ${batch.id}`);
    return;
  }
  if (batch.status === 'rejected') {
    out(`rejected:       ${batch.rejection?.code ?? ''}${batch.rejection?.reason ? ` — ${batch.rejection.reason}` : ''}`);
    exitNow(EXIT_NOT_PAID);
  }
  const { completed, failed, cancelled } = batch.payments;
  const notPaidCount = batch.rows - completed.count;
  const notPaid = notPaidAmount(batch);
  out(`paid:           ${counted(completed.count, 'payment')}, ${money(completed.amount)}`);
  out(`failed:         ${counted(failed.count, 'payment')}, ${money(failed.amount)}`);
  if (cancelled.count > 0) out(`cancelled:      ${counted(cancelled.count, 'payment')}, ${money(cancelled.amount)}`);
  out(`invalid:        ${counted(batch.validation.invalid, 'row')}`);
  out(`not paid:       ${counted(notPaidCount, 'row')}${notPaid ? `, ${notPaid}` : ''}${notPaidCount > 0 ? ` — the list: kassa batch failures ${batch.id} --csv` : ''}`);
  if (batch.status === 'cancelled') exitNow(EXIT_NOT_PAID);
}

/**
 * Declared totals less what was paid, in exact minor units; rows in another currency were not paid at all.
 * Undefined when nothing with a readable amount is left unpaid.
 */
function notPaidAmount(batch: BatchView): string | undefined {
  const declared = Object.entries(batch.control.totals ?? {});
  const left = declared.length > 0
    ? declared.map(([currency, amount]) => [currency, minorOf(amount, currency) - (currency === batch.currency ? minorOf(batch.payments.completed.amount, currency) : 0n)] as const)
    : [[batch.currency, (['failed', 'cancelled', 'in_progress', 'not_sent'] as const).reduce((sum, outcome) => sum + minorOf(batch.payments[outcome].amount, batch.currency), 0n)] as const];
  const shown = left.filter(([, minor]) => minor > 0n).map(([currency, minor]) => `${currency} ${formatMoney({ minor, currency })}`);
  return shown.length > 0 ? shown.join(', ') : undefined;
}

function counted(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

function minorOf(amount: string, currency: string): bigint {
  if (/^0+(\.0+)?$/.test(amount)) return 0n;
  const parsed = parseMoney(amount, currency);
  if (!parsed.ok) throw new KassaApiError(0, 'unexpected_amount', `Kassa answered an amount the CLI cannot read: ${currency} ${amount}`);
  return parsed.money.minor;
}

function whoApproves(batch: BatchView): string {
  return `a checker (a credential with the benefits:approve scope, not the one that submitted it) must run: kassa batch approve ${batch.id}`;
}

function out(line: string): void {
  process.stdout.write(`${line}\n`);
}

function note(line: string): void {
  process.stderr.write(`${line}\n`);
}
