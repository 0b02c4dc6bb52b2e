import express, { Router, type Request, type Response } from 'express';
import { stringify } from 'csv-stringify';
import type { BatchRowInput } from '../../domain/batch.ts';
import { isFinal } from '../../domain/order-status.ts';
import { notFound, ValidationError } from '../../domain/errors.ts';
import { formatMoney } from '../../domain/money.ts';
import { listBatchRows, type BatchRowView } from '../../db/repositories/batch-rows.ts';
import { findBatch, listBatches, type Batch } from '../../db/repositories/batches.ts';
import { approveBatch } from '../../services/approve-batch.ts';
import { batchProgress } from '../../services/batch-progress.ts';
import { cancelBatch } from '../../services/cancel-batch.ts';
import type { ServiceContext } from '../../services/context.ts';
import { presentBatch } from '../../services/present-batch.ts';
import { submitBatch, type BatchEnvelope } from '../../services/submit-batch.ts';
import { batchRowsFromCsv } from '../batch-csv.ts';
import { callerOf, requireScope } from '../middleware/authenticate.ts';
import { idempotencyOf, idempotent } from '../middleware/idempotency.ts';
import { parseRequest } from '../middleware/validate.ts';
import { idParamOf, originOf } from '../request-parts.ts';
import { batchPaymentsQuerySchema, createBatchSchema, csvBatchQuerySchema, listBatchesQuerySchema } from '../schemas.ts';
import { decodeCursor, encodeCursor } from '../cursor.ts';

/** JSON batches are for the small ones; a large batch is a CSV upload, streamed. */
const JSON_BATCH_LIMIT = '20mb';

export function batchesRouter(context: ServiceContext): Router {
  const router = Router();

  router.post('/', express.json({ limit: JSON_BATCH_LIMIT, strict: true }), async (req, res) => {
    const correlationId = idempotencyOf(req).key;
    const { envelope, rows } = req.is('text/csv') ? csvBatch(req, correlationId) : jsonBatch(req, correlationId);
    const submitted = await submitBatch(context, callerOf(res), originOf(req, res), envelope, rows);
    if (submitted.replayed) res.setHeader('Idempotent-Replayed', 'true');
    res.status(submitted.replayed ? 200 : 202).location(`/v1/batches/${submitted.batch.id}`).json(await present(context, submitted.batch));
  });

  router.get('/', requireScope('orders:read'), async (req, res) => {
    const query = parseRequest(listBatchesQuerySchema, req.query, 'query');
    const batches = await listBatches(context.db, { organisationId: callerOf(res).organisationId, status: query.status, after: query.cursor ? decodeCursor(query.cursor) : undefined, limit: query.limit });
    const last = batches.at(-1);
    res.json({ data: await Promise.all(batches.map((batch) => present(context, batch))), next_cursor: batches.length === query.limit && last ? encodeCursor(last) : null });
  });

  router.get('/:id', requireScope('orders:read'), async (req, res) => {
    res.json(await present(context, await ownBatch(context, res, idParamOf(req))));
  });

  router.get('/:id/payments', requireScope('orders:read'), async (req, res) => {
    const batch = await ownBatch(context, res, idParamOf(req));
    const query = parseRequest(batchPaymentsQuerySchema, req.query, 'query');
    if (query.format === 'csv') return streamPaymentsCsv(context, batch, query.outcome, res);
    const rows = await listBatchRows(context.db, batch.id, { outcome: query.outcome, afterRow: query.after_row, limit: query.limit });
    const last = rows.at(-1);
    res.json({ data: rows.map((row) => presentRow(row)), next_after_row: rows.length === query.limit && last ? last.rowNumber : null });
  });

  router.post('/:id/approve', async (req, res) => {
    await idempotent(context.db, req, res, async () => {
      const batch = await approveBatch(context, callerOf(res), originOf(req, res), idParamOf(req));
      return { status: 200, body: await present(context, batch) };
    });
  });

  router.post('/:id/cancel', async (req, res) => {
    await idempotent(context.db, req, res, async () => {
      const batch = await cancelBatch(context, callerOf(res), originOf(req, res), idParamOf(req));
      return { status: 200, body: await present(context, batch) };
    });
  });
  return router;
}

async function ownBatch(context: ServiceContext, res: Response, id: string): Promise<Batch> {
  const batch = await findBatch(context.db, callerOf(res).organisationId, id);
  if (!batch) throw notFound(`batch ${id}`);
  return batch;
}

async function present(context: ServiceContext, batch: Batch) {
  return presentBatch(batch, await batchProgress(context.db, batch));
}

function jsonBatch(req: Request, correlationId: string): { envelope: BatchEnvelope; rows: AsyncIterable<BatchRowInput> } {
  const body = parseRequest(createBatchSchema, req.body, 'body');
  return {
    envelope: {
      api: 'kassa', correlationId, programCode: body.program, reference: body.reference, registeringInstitution: body.registering_institution, callbackUrl: body.callback_url,
      executeAt: body.execute_at ? new Date(body.execute_at) : undefined, declaredCount: body.control.count, declaredTotals: body.control.totals, rowProblems: 'report',
    },
    rows: (async function* () {
      for (const payment of body.payments) {
        yield {
          instructionId: payment.instruction_id, payeeIdentity: payment.payee_identity, payee: payment.payee, payer: payment.payer,
          amount: payment.amount, currency: payment.currency, note: payment.note,
        };
      }
    })(),
  };
}

function csvBatch(req: Request, correlationId: string): { envelope: BatchEnvelope; rows: AsyncIterable<BatchRowInput> } {
  const query = parseRequest(csvBatchQuerySchema, req.query, 'query');
  const totals = Object.fromEntries(query.control_total.split(',').map((entry) => entry.split(':') as [string, string]));
  if (Object.keys(totals).length !== query.control_total.split(',').length) {
    throw new ValidationError([{ field: 'query.control_total', reason: 'names a currency twice' }]);
  }
  return {
    envelope: {
      api: 'kassa', correlationId, programCode: query.program, reference: query.reference, registeringInstitution: query.registering_institution, callbackUrl: query.callback_url,
      executeAt: query.execute_at ? new Date(query.execute_at) : undefined, declaredCount: query.control_count, declaredTotals: totals, rowProblems: 'report',
    },
    rows: batchRowsFromCsv(req),
  };
}

export function presentRow(row: BatchRowView) {
  const outcome = row.order ? (isFinal(row.order.status) ? row.order.status : 'in_progress') : row.rowStatus === 'invalid' ? 'invalid' : row.rowStatus === 'cancelled' ? 'cancelled' : 'not_sent';
  return {
    row: row.rowNumber,
    instruction_id: row.instructionId,
    payee_identity: row.payeeIdentity,
    amount: row.amountMinor === null ? null : formatMoney({ minor: row.amountMinor, currency: row.currency }),
    currency: row.currency,
    outcome,
    reason: row.order?.failureCode
      ? { code: row.order.failureCode, detail: row.order.failureReason }
      : row.reasonCode ? { code: row.reasonCode, detail: row.reason } : null,
    order: row.order ? { id: row.order.id, status: row.order.status, rail: row.order.rail, rail_reference: row.order.railReference } : null,
  };
}

const PAGE = 1000;

/** The whole list as a file, read a page at a time: the agency's worklist of what was not paid. */
async function streamPaymentsCsv(context: ServiceContext, batch: Batch, outcome: Parameters<typeof listBatchRows>[2]['outcome'], res: Response): Promise<void> {
  res.status(200).type('text/csv').setHeader('Content-Disposition', `attachment; filename="batch-${batch.id}${outcome ? `-${outcome}` : ''}.csv"`);
  const csv = stringify({ header: true, columns: ['row', 'instruction_id', 'payee_identity', 'amount', 'currency', 'outcome', 'reason_code', 'reason', 'order_id', 'rail_reference'] });
  csv.pipe(res);
  for (let after = 0; ;) {
    const rows = await listBatchRows(context.db, batch.id, { outcome, afterRow: after, limit: PAGE });
    for (const row of rows) {
      const shown = presentRow(row);
      const writable = csv.write([shown.row, shown.instruction_id, shown.payee_identity ?? '', shown.amount ?? '', shown.currency, shown.outcome, shown.reason?.code ?? '', shown.reason?.detail ?? '', shown.order?.id ?? '', shown.order?.rail_reference ?? '']);
      if (!writable) await new Promise((resolve) => csv.once('drain', resolve));
    }
    if (rows.length < PAGE) break;
    after = rows.at(-1)!.rowNumber;
  }
  csv.end();
}
