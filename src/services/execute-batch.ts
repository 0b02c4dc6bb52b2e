import { randomUUID } from 'node:crypto';
import { NoRailRoute } from '../../adapters/registry.ts';
import { ROW_REASONS } from '../domain/batch.ts';
import { newOrderId } from '../domain/order.ts';
import { lockRowsToPay, orderRows, recordVerdicts, unsentOrders, type RowOrder, type RowVerdict, type UnsentOrder } from '../db/repositories/batch-rows.ts';
import { adjustValidation, loadBatch, updateBatch, type Batch } from '../db/repositories/batches.ts';
import { findProgram } from '../db/repositories/programs.ts';
import type { BatchChunkJob } from '../queue/payloads.ts';
import type { ServiceContext } from './context.ts';
import { dispatchOrders } from './dispatch-orders.ts';

/**
 * Starts a released batch when its time has come: `scheduled` becomes `processing` and a flow of chunk jobs
 * is queued, one per range of rows. A batch already processing gets its flow again (the chunks are idempotent),
 * which is how the monitor revives one whose jobs were lost.
 */
export async function executeBatch(context: ServiceContext, batchId: string, options: { recovery?: boolean } = {}): Promise<void> {
  const batch = await loadBatch(context.db, batchId);
  if (!batch) return;
  if (batch.status === 'scheduled') {
    if (batch.executeAt && batch.executeAt.getTime() > Date.now()) {
      await context.queues.executeBatch(batchId, { delayMs: batch.executeAt.getTime() - Date.now(), recovery: true });
      return;
    }
    if (!(await updateBatch(context.db, batchId, ['scheduled'], { status: 'processing' }))) return;
  } else if (batch.status !== 'processing' || (batch.fullyOrdered && !options.recovery)) {
    return;
  }
  const size = context.config.BATCH_CHUNK_ROWS;
  const chunks: BatchChunkJob[] = [];
  for (let fromRow = 1; fromRow <= batch.rowCount; fromRow += size) chunks.push({ batchId, fromRow, toRow: Math.min(fromRow + size - 1, batch.rowCount) });
  await context.queues.batchFlow(batchId, chunks, options.recovery ? randomUUID() : 'first');
}

/**
 * Turns one range of valid rows into payment orders and sends them, grouped by rail and institution. Run again
 * after a crash, it creates nothing twice: rows already ordered keep their orders, and orders no rail has seen
 * yet are sent (a rail that has seen one is asked, never sent it again).
 */
export async function orderBatchChunk(context: ServiceContext, chunk: BatchChunkJob): Promise<void> {
  const batch = await loadBatch(context.db, chunk.batchId);
  if (!batch || batch.status !== 'processing') return;
  const program = await findProgram(context.db, batch.organisationId, batch.programId);
  if (!program) throw new Error(`batch ${batch.id} names program ${batch.programId}, which does not exist`);

  const toSend = await context.db.transaction(async (trx) => {
    const rows = await lockRowsToPay(trx, batch.id, chunk.fromRow, chunk.toRow);
    const orders: RowOrder[] = [];
    const unroutable: RowVerdict[] = [];
    for (const row of rows.valid) {
      const payer = row.payer ?? program.fundingAccount;
      try {
        const rail = context.rails.route({ kind: 'benefit', payer, payee: row.payee, currency: row.currency }).id;
        orders.push({ rowNumber: row.rowNumber, orderId: newOrderId(), rail, payer, reference: row.note || row.instructionId });
      } catch (error) {
        if (!(error instanceof NoRailRoute)) throw error;
        unroutable.push({ rowNumber: row.rowNumber, status: 'invalid', reasonCode: 'no_route', reason: error.message });
      }
    }
    await invalidateValidRows(trx, batch, unroutable, rows.valid);
    const ordered = await orderRows(trx, batch.id, orders, ROW_REASONS.already_paid);
    if (ordered.turnedAway > 0) await adjustValidation(trx, batch.id, ordered.turnedAway, ordered.turnedAwayMinor);
    const written = new Set(ordered.orderIds);
    const institutionOf = new Map(rows.valid.map((row) => [row.rowNumber, row.payee.institution ?? null]));
    const fresh = orders.filter((order) => written.has(order.orderId)).map((order) => ({ id: order.orderId, rail: order.rail, institution: institutionOf.get(order.rowNumber) ?? null }));
    return { fresh, orderedEarlier: rows.orderedEarlier };
  });
  // What this run wrote is unsent by construction; what an earlier run wrote is looked up, since that run may have sent some of it.
  await sendUnsent(context, [...toSend.fresh, ...(await unsentOrders(context.db, toSend.orderedEarlier))]);
}

/** Rows whose route disappeared since validation (the routing table changed) are not paid; the batch's counts follow. */
async function invalidateValidRows(trx: ServiceContext['db'], batch: Batch, verdicts: readonly RowVerdict[], rows: readonly { rowNumber: number; amountMinor: bigint }[]): Promise<void> {
  if (verdicts.length === 0) return;
  await recordVerdicts(trx, batch.id, verdicts, { from: 'valid' });
  const dropped = new Set(verdicts.map((verdict) => verdict.rowNumber));
  const amount = rows.filter((row) => dropped.has(row.rowNumber)).reduce((sum, row) => sum + row.amountMinor, 0n);
  await adjustValidation(trx, batch.id, verdicts.length, amount);
}

async function sendUnsent(context: ServiceContext, unsent: readonly UnsentOrder[]): Promise<void> {
  const byRail = new Map<string, UnsentOrder[]>();
  for (const order of unsent) {
    const ofRail = byRail.get(order.rail) ?? [];
    ofRail.push(order);
    byRail.set(order.rail, ofRail);
  }
  await Promise.all([...byRail].map(async ([rail, orders]) => {
    // Payments to one institution travel together: one pain.001 or one mobile-money batch per institution.
    const sorted = orders.toSorted((a, b) => (a.institution ?? '').localeCompare(b.institution ?? ''));
    const size = Math.min(context.config.DISPATCH_CHUNK_SIZE, context.rails.get(rail).capabilities.maxChunkSize);
    for (let start = 0; start < sorted.length; start += size) {
      const ids = sorted.slice(start, start + size).map((order) => order.id);
      const { holdUntilMs } = await dispatchOrders(context, rail, ids);
      // The rail's circuit is open: its dispatch queue holds these until the rail is back.
      if (holdUntilMs !== undefined) await context.queues.dispatch(rail, [{ jobId: `batch-held-${ids[0]}-${Date.now()}`, data: { orderIds: ids } }]);
    }
  }));
}

/** The flow's parent: every chunk has run, so every row is an order or was dropped, and the budget can settle. */
export async function finishOrdering(context: ServiceContext, batchId: string): Promise<void> {
  await updateBatch(context.db, batchId, ['processing'], { fullyOrdered: true });
}
