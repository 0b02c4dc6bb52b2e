import { randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { InvalidArgumentError, type Command } from 'commander';
import { loadCliClientConfig, type CliClientOverrides } from '../config/cli-client.ts';
import { isIsoDate } from '../domain/statement.ts';
import { KassaApiError } from './batch-client.ts';
import { dailyReportText } from './daily-report-text.ts';
import { reportingProblems } from './reporting-problems.ts';
import { TreasuryClient, type ImportAnswer } from './treasury-client.ts';

/**
 * `kassa statements import FILE`, `kassa reconcile --rail RAIL --date YYYY-MM-DD` and `kassa report daily --date
 * YYYY-MM-DD`, against a running Kassa over HTTP (KASSA_URL, KASSA_API_KEY: a `treasury:write` key to import and
 * reconcile, `treasury:read` or `orders:read` for the report). The figures go to stdout. Exit codes: 0 done
 * (exceptions found are reported, not failures), 1 Kassa answered a problem, could not be reached, or a file
 * cannot be read or written; 78 a setting is missing or wrong.
 */
export function registerTreasuryCommands(program: Command): void {
  const client = (command: Command) =>
    command
      .option('--url <url>', 'the Kassa API (default: KASSA_URL, else http://127.0.0.1:8080)')
      .option('--key <key>', 'the API key (default: KASSA_API_KEY)');
  const statements = program.command('statements').description('bank and rail statements (KASSA_URL, KASSA_API_KEY)');
  client(
    statements
      .command('import')
      .description('upload a statement file (camt.053, camt.054, MT940 or statement CSV, recognised by content) and reconcile it')
      .argument('<file>', 'the statement file')
      .option('--rail <rail>', 'the rail the statement comes from (default: the one rail with statements)')
      .option('--no-reconcile', 'store the statement without reconciling it'),
  ).action((file: string, options: CliClientOverrides & { rail?: string; reconcile: boolean }) => runStatementsImport(file, options));
  client(
    program
      .command('reconcile')
      .description("pull a rail's statement for a day (or a range) and reconcile it")
      .requiredOption('--rail <rail>', 'the rail, e.g. bank-iso20022')
      .option('--date <date>', 'the day, YYYY-MM-DD (default: today, UTC)', dateOption)
      .option('--from <date>', 'first day of a range', dateOption)
      .option('--to <date>', 'last day of a range', dateOption),
  ).action((options: CliClientOverrides & { rail: string; date?: string; from?: string; to?: string }) => runReconcile(options));
  const report = program.command('report').description('treasury reports (KASSA_URL, KASSA_API_KEY)');
  client(
    report
      .command('daily')
      .description('the day per organisation, program and currency, the rails against their statements, the open exceptions')
      .requiredOption('--date <date>', "the day, YYYY-MM-DD, from 00:00 to 24:00 in the server's REPORT_TIMEZONE", dateOption)
      .option('--organisation <id>', 'one organisation (treasury:read); an agency always gets its own')
      .option('--csv', 'the report as CSV rather than tables')
      .option('--output <file>', 'write the report to FILE (the JSON document, or the CSV with --csv) rather than stdout'),
  ).action((options: CliClientOverrides & DailyReportOptions) => runDailyReport(options));
}

interface DailyReportOptions {
  readonly date: string;
  readonly organisation?: string;
  readonly csv?: boolean;
  readonly output?: string;
}

function dateOption(value: string): string {
  if (!isIsoDate(value)) throw new InvalidArgumentError('must be a date such as 2026-11-25');
  return value;
}

export async function runStatementsImport(file: string, options: CliClientOverrides & { rail?: string; reconcile: boolean }): Promise<void> {
  await reportingProblems(async () => {
    const answer = await new TreasuryClient(loadCliClientConfig(options)).importStatement(file, { rail: options.rail, reconcile: options.reconcile });
    printAnswer(answer);
  });
}

export async function runReconcile(options: CliClientOverrides & { rail: string; date?: string; from?: string; to?: string }): Promise<void> {
  await reportingProblems(async () => {
    if (options.date && (options.from || options.to)) throw new KassaApiError(0, 'invalid_arguments', 'give --date, or --from and --to, not both');
    if (!options.date && (options.from === undefined) !== (options.to === undefined)) throw new KassaApiError(0, 'invalid_arguments', 'give both --from and --to');
    const today = new Date().toISOString().slice(0, 10);
    const from = options.date ?? options.from ?? today;
    const to = options.date ?? options.to ?? today;
    const answer = await new TreasuryClient(loadCliClientConfig(options)).reconcile({ rail: options.rail, from, to, idempotencyKey: `kassa-cli-reconcile-${randomUUID()}` });
    printAnswer(answer);
  });
}

export async function runDailyReport(options: CliClientOverrides & DailyReportOptions): Promise<void> {
  await reportingProblems(async () => {
    const client = new TreasuryClient(loadCliClientConfig(options));
    const request = { date: options.date, ...(options.organisation && { organisationId: options.organisation }) };
    if (options.csv) {
      const csv = await client.dailyReportCsv(request);
      if (options.output) await writeFile(options.output, csv);
      else process.stdout.write(csv);
    } else {
      const report = await client.dailyReport(request);
      if (options.output) await writeFile(options.output, `${JSON.stringify(report, null, 2)}\n`);
      else process.stdout.write(dailyReportText(report));
    }
    if (options.output) out(`report written to ${options.output}`);
  });
}

function printAnswer(answer: ImportAnswer): void {
  const { statement, run } = answer;
  out(`statement:      ${statement.id} (${statement.format}, ${statement.rail}, ${statement.lines} lines, ${statement.period.from ?? '?'} to ${statement.period.to ?? '?'})`);
  if (answer.duplicate) {
    out('                imported before: nothing was stored or counted twice');
    return;
  }
  if (!run) {
    out('                stored, not reconciled');
    return;
  }
  out(`run:            ${run.id} ${run.status}`);
  out(`lines:          ${run.lines}, matched ${run.matched}, with exceptions ${run.unmatched}`);
  if (run.confirmed > 0) out(`confirmed:      ${run.confirmed} payment(s) Kassa was waiting on are now completed`);
  if (run.returned > 0) out(`returned:       ${run.returned} payment(s) came back and are now returned`);
  const types = Object.entries(run.exceptions_by_type).filter(([, count]) => count > 0);
  out(`new exceptions: ${run.exceptions}${types.length > 0 ? ` — ${types.map(([type, count]) => `${type} ${count}`).join(', ')}` : ''}`);
  if (run.exceptions > 0) out('                see them: GET /v1/reconciliation/exceptions?run_id=' + run.id);
}

function out(line: string): void {
  process.stdout.write(`${line}\n`);
}
