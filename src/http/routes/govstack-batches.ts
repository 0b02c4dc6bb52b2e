import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { decimalTextOf, FINAL_BATCH_STATUSES, type BatchRowInput } from '../../domain/batch.ts';
import { formatMoney } from '../../domain/money.ts';
import type { Party, PartyType } from '../../domain/order.ts';
import { FINAL_STATUSES } from '../../domain/order-status.ts';
import { listBatchRows, type BatchRowView, type RowOutcomeFilter } from '../../db/repositories/batch-rows.ts';
import { findBatch, findBatchByCorrelation, type Batch } from '../../db/repositories/batches.ts';
import { batchProgress } from '../../services/batch-progress.ts';
import type { ServiceContext } from '../../services/context.ts';
import { presentGovStackBatchStatus } from '../../services/present-batch.ts';
import type { BatchEnvelope } from '../../services/submit-batch.ts';
import { batchRowsFromCsv, identified } from '../batch-csv.ts';
import {
  GOVSTACK_BATCH_JSON_LIMIT, govStackAmount, govStackBatchTooLarge, govStackCallbackUrl, submitGovStackBatch, type RefusalNames,
} from '../govstack-batch-intake.ts';
import { acceptParts, CALLBACK_URL_HEADERS, caseInsensitiveObject, govStackErrors, govStackGuards, GovStackRejection, headerOf, parsePart, REGISTERING_INSTITUTION_HEADERS } from '../govstack.ts';
import { callerOf } from '../middleware/authenticate.ts';

// GovStack Payments BB v3 bulk disbursement (api-v3/g2p): BulkPayment (POST /batchtransactions), the batch summary
// of BulkPaymentStatusUpdate (GET /api/v1/batch, also pushed to X-Callback-URL) and BatchDetails
// (GET /api/v1/batch/detail), all on Kassa's batch engine.

// The file gives X-CorrelationID 20 characters; GSMA-style callers send UUIDs (36), so Kassa takes up to 64.
const correlationId = z.string().min(1).max(64);

const submissionHeaders = z.object({
  'X-CorrelationID': correlationId,
  // Required and at most 20 characters, as the file says. Kassa's tenant is the bearer credential's organisation:
  // the header is checked, but it cannot reach another organisation's data.
  'Platform-TenantId': z.string().min(1).max(20),
  'X-Callback-URL': govStackCallbackUrl,
  'X-Program-Id': z.string().min(1).max(20).optional(),
  'X-Registering-Institution-Id': z.string().min(1).max(20).optional(),
});

/** The file's enum is only `raw`; `csv` (the GovStack CSV columns, as the body) is Kassa's streamed path for large batches. */
const submissionQuery = z.object({ type: z.enum(['raw', 'csv'], { error: (issue) => (issue.input === undefined ? 'is required' : undefined) }) });

const partyList = z.array(caseInsensitiveObject({ key: z.string().min(1).max(40), value: z.string().min(1).max(128) }));

const rawInstructions = z.object({
  body: z
    .array(caseInsensitiveObject({
      requestId: z.string().min(1).max(16),
      creditParty: partyList.min(1),
      debitParty: partyList,
      paymentMode: z.string().min(1).max(20),
      amount: govStackAmount,
      currency: z.string().length(3),
      descriptionText: z.string().max(50).optional(),
    }))
    .min(1),
});
type RawInstruction = z.infer<typeof rawInstructions>['body'][number];

const PAYEE_KEYS = 'FUNCTIONAL_ID (or payeeIdentity), MSISDN, IBAN or ACCOUNT';

const summaryQuery = caseInsensitiveObject({ batchId: z.string().min(1).max(50).optional(), 'X-CorrelationID': correlationId.optional() });

const pageNumber = (error: string) => z.coerce.number({ error }).int({ error });

/**
 * BatchDetails pages. The file calls pageNo the "offset of the result pages", so it counts pages from 0, as
 * Spring's PageRequest in the Payment Hub it came from does: pageNo=0 is the first page, pageNo=1 the second.
 */
const detailQuery = caseInsensitiveObject({
  batchId: z.string().min(1).max(50).optional(),
  'X-CorrelationID': correlationId.optional(),
  direction: z.string().max(12).optional(),
  pageNo: pageNumber('must be a whole number from 0 (the first page)').pipe(z.number().min(0, { error: 'must be 0 (the first page) or more' })).default(0),
  pageSize: pageNumber('must be a whole number from 1 to 1000').pipe(z.number().min(1, { error: 'must be from 1 to 1000' }).max(1000, { error: 'must be from 1 to 1000' })).default(20),
  status: z.string().optional(),
});
const detailHeaders = z.object({ 'Platform-TenantId': z.string().min(1).max(20) });

/** GovStack's words for the row outcomes the summary counts: every row is one of the three, as in the summary. */
const STATUS_FILTERS = { COMPLETED: 'completed', FAILED: 'unpaid', IN_PROGRESS: 'in_progress' } as const satisfies Record<string, RowOutcomeFilter>;
type GovStackStatus = keyof typeof STATUS_FILTERS;

const PARTY_ID_TYPES: Readonly<Record<PartyType, string>> = { msisdn: 'MSISDN', iban: 'IBAN', bank_account: 'ACCOUNT', functional_id: 'FUNCTIONAL_ID', card: 'CARD' };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function govStackBatchesRouter(context: ServiceContext): Router {
  const router = Router();
  const guards = govStackGuards(context, { jsonLimit: GOVSTACK_BATCH_JSON_LIMIT });

  router.post('/batchtransactions', ...guards, async (req, res) => {
    const givenCorrelation = req.get('X-CorrelationID') ?? '';
    const [headers, query] = acceptParts(
      givenCorrelation,
      parsePart(submissionHeaders, {
        'X-CorrelationID': req.get('X-CorrelationID'),
        'Platform-TenantId': req.get('Platform-TenantId'),
        'X-Callback-URL': headerOf(req, CALLBACK_URL_HEADERS),
        'X-Program-Id': req.get('X-Program-Id'),
        'X-Registering-Institution-Id': headerOf(req, REGISTERING_INSTITUTION_HEADERS),
      }, 'header'),
      parsePart(submissionQuery, req.query, 'query'),
    );
    const envelope: BatchEnvelope = {
      api: 'govstack',
      correlationId: headers['X-CorrelationID'],
      programCode: headers['X-Program-Id'],
      registeringInstitution: headers['X-Registering-Institution-Id'],
      callbackUrl: headers['X-Callback-URL'],
      rowProblems: 'reject',
    };
    const names: RefusalNames = {
      instruction: query.type === 'csv' ? (row) => `file row ${row}` : (row) => `body[${row - 1}]`,
      program: 'X-Program-Id',
      correlationId: 'X-CorrelationID',
    };
    const rows = query.type === 'csv' ? csvRows(req, envelope.correlationId) : rawRows(req, envelope.correlationId);
    const submitted = await submitGovStackBatch(context, req, res, envelope, rows, names);
    if (submitted.replayed) res.setHeader('Idempotent-Replayed', 'true');
    res.status(202).location(`/api/v1/batch?batchId=${submitted.batch.id}`).json({ batchId: submitted.batch.id });
  });

  router.get('/api/v1/batch', ...guards, async (req, res) => {
    const [query] = acceptParts(givenCorrelationOf(req), parsePart(summaryQuery, req.query, 'query'));
    const batch = await askedBatch(context, res, query);
    res.status(200).json(presentGovStackBatchStatus(batch, await batchProgress(context.db, batch)));
  });

  router.get('/api/v1/batch/detail', ...guards, async (req, res) => {
    const [, query] = acceptParts(
      givenCorrelationOf(req),
      parsePart(detailHeaders, { 'Platform-TenantId': req.get('Platform-TenantId') }, 'header'),
      parsePart(detailQuery, req.query, 'query'),
    );
    const status = query.status === undefined ? undefined : query.status.toUpperCase().replaceAll('-', '_');
    if (status !== undefined && !Object.hasOwn(STATUS_FILTERS, status)) {
      throw new GovStackRejection(400, `Bad request: query status must be one of ${Object.keys(STATUS_FILTERS).join(', ')}`, query['X-CorrelationID'] ?? '');
    }
    const batch = await askedBatch(context, res, query);
    if (query.direction !== undefined && query.direction.toUpperCase() !== 'OUTGOING') return void res.status(200).json([]);
    const rows = await detailPage(context, batch, status as GovStackStatus | undefined, query.pageNo, query.pageSize);
    res.status(200).json(rows.map((row) => presentDetail(batch, row)));
  });

  router.use(govStackBatchTooLarge('send a larger batch as a CSV file (type=csv, Content-Type: text/csv)'));
  router.use(govStackErrors);
  return router;
}

function givenCorrelationOf(req: Request): string {
  const given = req.query['X-CorrelationID'] ?? req.get('X-CorrelationID');
  return typeof given === 'string' ? given : '';
}

/** The batch a query names by batchId or by X-CorrelationID (both must then agree), within the caller's organisation. */
async function askedBatch(context: ServiceContext, res: Response, query: { batchId?: string; 'X-CorrelationID'?: string }): Promise<Batch> {
  const requestId = query['X-CorrelationID'] ?? '';
  if (query.batchId === undefined && query['X-CorrelationID'] === undefined) throw new GovStackRejection(400, 'Bad request: query batchId is required', requestId);
  const organisationId = callerOf(res).organisationId;
  const batch = query.batchId !== undefined
    ? (UUID.test(query.batchId) ? await findBatch(context.db, organisationId, query.batchId) : undefined)
    : await findBatchByCorrelation(context.db, organisationId, 'govstack', query['X-CorrelationID']!);
  if (!batch || (query['X-CorrelationID'] !== undefined && batch.correlationId !== query['X-CorrelationID'])) {
    throw new GovStackRejection(404, `Not found: batch ${query.batchId ?? `with X-CorrelationID ${requestId}`} does not exist`, requestId);
  }
  return batch;
}

function rawRows(req: Request, requestId: string): AsyncIterable<BatchRowInput> {
  if (!req.is('application/json')) {
    throw new GovStackRejection(400, 'Bad request: type=raw takes a JSON array of instructions sent with Content-Type: application/json', requestId);
  }
  const [{ body: instructions }] = acceptParts(requestId, parsePart(rawInstructions, { body: req.body as unknown }, 'body'));
  const problems: string[] = [];
  const rows = instructions.map((instruction, index) => {
    const row = rowOf(instruction);
    if (!row) problems.push(`body[${index}].creditParty names no payee Kassa can pay; use the key ${PAYEE_KEYS}`);
    return row;
  });
  if (problems.length > 0) throw new GovStackRejection(400, `Bad request: ${problems.join('; ')}`, requestId);
  return (async function* () {
    yield* rows as BatchRowInput[];
  })();
}

/**
 * The payee is the first functional ID among the credit party's keys, resolved through the account mapper; without
 * one, the first account (MSISDN, IBAN, ACCOUNT). A debit party account, if any, pays instead of the program's.
 */
function rowOf(instruction: RawInstruction): BatchRowInput | undefined {
  const credit = instruction.creditParty.map((entry) => identified(entry.key, entry.value));
  const identity = credit.find((found) => found !== undefined && 'identity' in found);
  const account = credit.find((found) => found !== undefined && 'party' in found);
  const payee = identity ?? account;
  if (!payee) return undefined;
  const payer = instruction.debitParty.map((entry) => identified(entry.key, entry.value)).find((found) => found !== undefined && 'party' in found) as { party: Party } | undefined;
  return {
    instructionId: instruction.requestId,
    ...('identity' in payee ? { payeeIdentity: payee.identity } : { payee: payee.party }),
    ...(payer ? { payer: payer.party } : {}),
    amount: decimalTextOf(instruction.amount),
    currency: instruction.currency,
    ...(instruction.descriptionText ? { note: instruction.descriptionText } : {}),
  };
}

function csvRows(req: Request, requestId: string): AsyncIterable<BatchRowInput> {
  if (!req.is('text/csv')) {
    throw new GovStackRejection(400, 'Bad request: type=csv takes the file as the body, sent with Content-Type: text/csv', requestId);
  }
  return batchRowsFromCsv(req);
}

/**
 * One page of rows in row order. Unfiltered, a page is a range of row numbers (rows are numbered from 1 without
 * gaps); filtered, it is an offset into the matching rows. A batch rejected before payment has paid nothing: all
 * its rows are FAILED.
 */
async function detailPage(context: ServiceContext, batch: Batch, status: GovStackStatus | undefined, pageNo: number, pageSize: number): Promise<BatchRowView[]> {
  const start = pageNo * pageSize;
  const unpaidByDecision = batch.status === 'rejected';
  if (unpaidByDecision && status !== undefined && status !== 'FAILED') return [];
  const outcome = status === undefined || unpaidByDecision ? undefined : STATUS_FILTERS[status];
  return outcome === undefined
    ? listBatchRows(context.db, batch.id, { afterRow: start, limit: pageSize })
    : listBatchRows(context.db, batch.id, { outcome, afterRow: 0, offset: start, limit: pageSize });
}

/** One BatchDetails item. The payee is shown as it was given: the functional ID, not the account it resolved to. */
function presentDetail(batch: Batch, row: BatchRowView) {
  const order = row.order;
  const final = order !== null && FINAL_STATUSES.includes(order.status);
  const stranded = order === null && (row.rowStatus === 'pending' || row.rowStatus === 'valid') && FINAL_BATCH_STATUSES.includes(batch.status) && !batch.validateOnly;
  const status = order?.status === 'completed' ? 'COMPLETED' : final || row.rowStatus === 'invalid' || row.rowStatus === 'cancelled' || stranded ? 'FAILED' : 'IN_PROGRESS';
  const reason = order?.failureCode
    ? { code: order.failureCode, text: order.failureReason }
    : order?.status === 'cancelled' ? { code: 'cancelled', text: 'the payment was cancelled' }
      : row.reasonCode ? { code: row.reasonCode, text: row.reason }
        : stranded ? { code: batch.rejectionCode ?? batch.status, text: batch.rejectionReason } : undefined;
  const payee = row.payeeIdentity !== null
    ? { payeePartyId: row.payeeIdentity, payeePartyIdType: 'FUNCTIONAL_ID' }
    : row.payee ? { payeePartyId: row.payee.value, payeePartyIdType: PARTY_ID_TYPES[row.payee.type] } : {};
  return {
    transactionId: order?.id ?? row.instructionId,
    requestId: row.instructionId,
    ...(order ? { startedAt: order.createdAt.toISOString(), ...(final ? { completedAt: order.updatedAt.toISOString() } : {}) } : {}),
    status,
    ...(reason ? { statusDetail: reason.code, ...(reason.text ? { errorInformation: reason.text } : {}) } : {}),
    ...(row.payee?.institution ? { payeeDfspId: row.payee.institution } : {}),
    ...payee,
    ...(row.amountMinor === null ? {} : { amount: Number(formatMoney({ minor: row.amountMinor, currency: row.currency })) }),
    currency: row.currency,
    direction: 'OUTGOING',
    batchId: batch.id,
  };
}
