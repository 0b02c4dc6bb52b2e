import { createHash, randomUUID } from 'node:crypto';
import type { Caller, RequestOrigin } from '../domain/caller.ts';
import { checkRow, type BatchApi, type BatchRowInput } from '../domain/batch.ts';
import { ProblemError, ValidationError, type FieldError } from '../domain/errors.ts';
import { formatMoney, parseMoney } from '../domain/money.ts';
import { grants } from '../domain/scopes.ts';
import { appendAudit } from '../db/repositories/audit-log.ts';
import { insertBatchRows, type NewBatchRow } from '../db/repositories/batch-rows.ts';
import { findBatchByCorrelation, insertBatch, sealBatch, type Batch } from '../db/repositories/batches.ts';
import { findProgramByCode, type Program } from '../db/repositories/programs.ts';
import type { ServiceContext } from './context.ts';

/** What the agency says of the batch as a whole, whichever API it came through. */
export interface BatchEnvelope {
  readonly api: BatchApi;
  /** The caller's key for the batch (X-CorrelationID, RequestID, Idempotency-Key): re-sent, it finds the same batch. */
  readonly correlationId: string;
  /** The program's code; its organisation's default program when absent. */
  readonly programCode?: string;
  readonly reference?: string;
  readonly registeringInstitution?: string;
  readonly callbackUrl?: string;
  readonly declaredCount?: number;
  /** Decimal text in major units, per currency. */
  readonly declaredTotals?: Readonly<Record<string, string>>;
  readonly executeAt?: Date;
  readonly validateOnly?: boolean;
  /**
   * `report`: a row that is wrong on its own is stored as invalid with its reason (the batch goes on);
   * `reject`: it refuses the whole request, as the GovStack schemas require.
   */
  readonly rowProblems: 'report' | 'reject';
}

export interface SubmittedBatch {
  readonly batch: Batch;
  readonly replayed: boolean;
}

const ROWS_PER_INSERT = 1000;
/** Problems that make a row wrong in itself; the rest (currency of another program, say) are the batch's business. */
const SCHEMA_PROBLEMS = new Set(['missing_field', 'invalid_amount', 'invalid_currency', 'invalid_account']);

/**
 * Takes a batch in as a stream of rows and stores it in chunks inside one transaction: the control sums are
 * checked at the end, and a mismatch leaves nothing behind. Answers as soon as the rows are stored; resolving,
 * approving and paying happen in the workers.
 */
export async function submitBatch(context: Pick<ServiceContext, 'db' | 'queues'>, caller: Caller, origin: RequestOrigin, envelope: BatchEnvelope, rows: AsyncIterable<BatchRowInput>): Promise<SubmittedBatch> {
  if (!grants(caller.scopes, 'benefits:write')) throw new ProblemError(403, 'insufficient_scope', 'Forbidden', 'a batch of benefit payments needs the benefits:write scope');
  const program = await findProgramByCode(context.db, caller.organisationId, envelope.programCode);
  if (!program) {
    throw new ProblemError(422, 'unknown_program', 'Unknown program', envelope.programCode === undefined
      ? 'no program is named and the organisation has no default program'
      : `the organisation has no program ${envelope.programCode}`, { errors: [{ field: 'program', reason: 'unknown program' }] });
  }
  const hash = createHash('sha256').update(JSON.stringify({ ...envelope, executeAt: envelope.executeAt?.toISOString() }));
  const earlier = await findBatchByCorrelation(context.db, caller.organisationId, envelope.api, envelope.correlationId);
  if (earlier) return replay(earlier, hash, rows);

  const id = randomUUID();
  try {
    await context.db.transaction(async (trx) => {
      await insertBatch(trx, {
        id, organisationId: caller.organisationId, programId: program.id, api: envelope.api, correlationId: envelope.correlationId,
        reference: envelope.reference ?? null, registeringInstitution: envelope.registeringInstitution ?? '', callbackUrl: envelope.callbackUrl ?? null,
        validateOnly: envelope.validateOnly ?? false,
        currency: program.currency, declaredCount: envelope.declaredCount ?? null,
        declaredTotals: envelope.declaredTotals ? { ...envelope.declaredTotals } : null, executeAt: envelope.executeAt ?? null, createdBy: caller.clientId,
      });
      const intake = await storeRows(rows, program, envelope, hash, (chunk) => insertBatchRows(trx, id, chunk));
      checkControlSums(envelope, intake);
      await sealBatch(trx, id, intake.count, hash.digest('hex'));
      await appendAudit(trx, {
        organisationId: caller.organisationId, clientId: caller.clientId, actor: caller.clientName, action: 'batch.submit', target: id,
        sourceIp: origin.sourceIp, requestId: origin.requestId,
        detail: { api: envelope.api, program: program.code, rows: intake.count, invalid: intake.invalid },
      });
    });
  } catch (error) {
    if (!isCorrelationTaken(error)) throw error;
    const winner = await findBatchByCorrelation(context.db, caller.organisationId, envelope.api, envelope.correlationId);
    if (!winner) throw error;
    return replay(winner, hash, rows);
  }
  await context.queues.validateBatch(id);
  const batch = await findBatchByCorrelation(context.db, caller.organisationId, envelope.api, envelope.correlationId);
  return { batch: batch!, replayed: false };
}

interface Intake {
  readonly count: number;
  readonly invalid: number;
  readonly totals: ReadonlyMap<string, bigint>;
}

async function storeRows(rows: AsyncIterable<BatchRowInput>, program: Program, envelope: BatchEnvelope, hash: ReturnType<typeof createHash>, flush: (chunk: NewBatchRow[]) => Promise<void>): Promise<Intake> {
  let count = 0;
  let invalid = 0;
  const totals = new Map<string, bigint>();
  let chunk: NewBatchRow[] = [];
  // One chunk is written while the next is read: parsing and the database's insert take turns no more.
  let writing: Promise<void> = Promise.resolve();
  for await (const row of rows) {
    count += 1;
    hash.update(JSON.stringify(row));
    const checked = checkRow(row, program.currency);
    if (!checked.ok && envelope.rowProblems === 'reject' && SCHEMA_PROBLEMS.has(checked.reasonCode)) {
      throw new ValidationError([{ field: `row ${count}`, reason: checked.reason }]);
    }
    const amount = checked.amount ?? (checked.ok ? undefined : amountOf(row));
    if (amount) totals.set(amount.currency, (totals.get(amount.currency) ?? 0n) + amount.minor);
    if (!checked.ok) invalid += 1;
    chunk.push({
      rowNumber: count, instructionId: row.instructionId, payeeIdentity: row.payeeIdentity ?? null, payee: row.payee ?? null, payer: row.payer ?? null,
      amountMinor: amount?.minor ?? null, currency: row.currency, note: row.note ?? null,
      status: checked.ok ? 'pending' : 'invalid', reasonCode: checked.ok ? null : checked.reasonCode, reason: checked.ok ? null : checked.reason,
    });
    if (chunk.length >= ROWS_PER_INSERT) {
      await writing;
      writing = flush(chunk);
      // Awaited before the next chunk or at the end, which is where its error surfaces; until then it is not unhandled.
      writing.catch(() => undefined);
      chunk = [];
    }
  }
  await writing;
  await flush(chunk);
  if (count === 0) throw new ValidationError([{ field: 'payments', reason: 'the batch has no payment instructions' }]);
  return { count, invalid, totals };
}

function amountOf(row: BatchRowInput) {
  const parsed = parseMoney(row.amount, row.currency);
  return parsed.ok ? parsed.money : undefined;
}

/** Declared count and totals must equal what arrived, to the minor unit: a truncated or altered file stops here. */
function checkControlSums(envelope: BatchEnvelope, intake: Intake): void {
  const problems: FieldError[] = [];
  if (envelope.declaredCount !== undefined && envelope.declaredCount !== intake.count) {
    problems.push({ field: 'control.count', reason: `declared ${envelope.declaredCount} payments, received ${intake.count}` });
  }
  for (const [currency, declared] of Object.entries(envelope.declaredTotals ?? {})) {
    const parsed = parseMoney(declared, currency);
    const received = intake.totals.get(currency) ?? 0n;
    if (!parsed.ok) problems.push({ field: `control.totals.${currency}`, reason: parsed.reason });
    else if (parsed.money.minor !== received) {
      problems.push({ field: `control.totals.${currency}`, reason: `declared ${declared}, received ${formatMoney({ minor: received, currency })}` });
    }
  }
  if (envelope.declaredTotals) {
    for (const currency of intake.totals.keys()) {
      if (!(currency in envelope.declaredTotals)) problems.push({ field: `control.totals.${currency}`, reason: `payments in ${currency} arrived but no total was declared for it` });
    }
  }
  if (problems.length > 0) {
    throw new ProblemError(422, 'control_sum_mismatch', 'Control sums do not match', problems.map((p) => `${p.field}: ${p.reason}`).join('; '), { errors: problems });
  }
}

/** The same correlation id with the same content is the same batch; with other content it is a mistake to refuse. */
async function replay(earlier: Batch, hash: ReturnType<typeof createHash>, rows: AsyncIterable<BatchRowInput>): Promise<SubmittedBatch> {
  for await (const row of rows) hash.update(JSON.stringify(row));
  if (hash.digest('hex') !== earlier.requestHash) {
    throw new ProblemError(409, 'correlation_id_reused', 'Conflict', `batch ${earlier.id} was submitted under this correlation id with different content`);
  }
  return { batch: earlier, replayed: true };
}

function isCorrelationTaken(error: unknown): boolean {
  const failure = error as { code?: string; constraint?: string };
  return failure.code === '23505' && failure.constraint === 'batches_organisation_id_api_correlation_id_key';
}
