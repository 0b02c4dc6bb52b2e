import { randomUUID } from 'node:crypto';
import type { RequestOrigin } from '../domain/caller.ts';
import { describeReturnReason } from '../domain/return-reasons.ts';
import { appendAudit } from '../db/repositories/audit-log.ts';
import { transitionOrders, type ChangedOrder } from '../db/repositories/orders.ts';
import {
  analyseStatementTables, classifyLines, classifyMissing, completeRun, failRun, findRepeatedOrders, insertRun, lineCounts, linkBulkByTotal, linkBulkSeenBefore, linkByAmountDateCounterparty, linkLateArrivals, lockSource,
  openOutcomes, orderActions, recordExceptions, resolveFoundMissing, unlinkedLineCounts, type OrderAction, type ReconciliationRun, type RunTrigger,
} from '../db/repositories/reconciliation.ts';
import type { Statement } from '../db/repositories/statements.ts';
import type { ServiceContext } from './context.ts';
import { restoreReturnedFunds } from './program-funds.ts';
import { countTransitions, webhooksOf } from './record-rail-outcomes.ts';

/** Who started a run (a credential, or the scheduler), as the run and the audit log record it. */
export interface RunStarter {
  readonly name: string;
  readonly clientId: string | null;
  readonly organisationId: string | null;
}

export interface ReconcileOutcome {
  readonly run: ReconciliationRun;
}

const ORDERS_PER_CHANGE = 5000;

/**
 * Reconciles one statement against Kassa's orders, in one transaction (one run per source at a time):
 * 1. links what the import could not: lines naming orders created since, lines without a reference (amount,
 *    value date, counterparty), bulk lines without their payments (count and total of a chunk);
 * 2. judges every line and every order due on a statement, into exceptions, each reported once however often
 *    the statement is reconciled, and order changes: a payment still awaiting its rail that the bank booked is
 *    completed, a completed one the bank returned is returned (with its webhook, its reversing journal, and its
 *    amount back on the program's budget);
 * 3. resolves "missing" exceptions of orders this statement shows after all, and records the run.
 * The run is recorded as failed if anything goes wrong, and nothing of it stays.
 */
export async function reconcileStatement(context: ServiceContext, statement: Statement, starter: RunStarter, origin: RequestOrigin | null, trigger: RunTrigger): Promise<ReconcileOutcome> {
  const runId = randomUUID();
  const started = performance.now();
  await insertRun(context.db, {
    id: runId, statementId: statement.id, source: statement.source, periodFrom: statement.periodFrom, periodTo: statement.periodTo, trigger,
    startedBy: starter.name, startedByClient: starter.clientId,
  });
  const settings = { missingAfterDays: context.config.RECON_MISSING_AFTER_DAYS, valueDateWindowDays: context.config.RECON_VALUE_DATE_WINDOW_DAYS };
  const steps: Record<string, number> = {};
  let mark = performance.now();
  const step = (name: string) => {
    const now = performance.now();
    steps[name] = Math.round(now - mark);
    mark = now;
  };
  let outcome: { run: ReconciliationRun; changed: ChangedOrder[] };
  try {
    // Outside the run's transaction, so that its lock on the tables' statistics is released at once.
    await analyseStatementTables(context.db);
    outcome = await context.db.transaction(async (trx) => {
      await lockSource(trx, statement.source);
      await linkLateArrivals(trx, statement.id);
      const unlinked = await unlinkedLineCounts(trx, statement.id);
      if (unlinked.single > 0) await linkByAmountDateCounterparty(trx, statement.id, statement.source, settings.valueDateWindowDays);
      if (unlinked.bulk > 0 && (await linkBulkSeenBefore(trx, statement.id, statement.source)) < unlinked.bulk) {
        await linkBulkByTotal(trx, statement.id, statement.source, settings.valueDateWindowDays);
      }
      step('link');

      await openOutcomes(trx);
      await findRepeatedOrders(trx, statement.id);
      await classifyLines(trx, { statementId: statement.id, statementSeq: statement.seq, source: statement.source });
      step('classify');
      if (statement.periodFrom !== null && statement.periodTo !== null) {
        await classifyMissing(trx, { rail: statement.source, from: statement.periodFrom, to: statement.periodTo, days: settings.missingAfterDays, asOf: statement.asOf });
      }
      step('missing');
      const exceptionsByType = await recordExceptions(trx, { runId, statementId: statement.id, source: statement.source });
      step('exceptions');

      const actions = await orderActions(trx);
      const detail = (action: OrderAction) => ({ reconciliation_run: runId, statement_id: statement.id, statement_line: action.lineNumber, rail_reference: action.railReference });
      const toConfirm = actions.filter((action) => action.confirm);
      const toReturn = actions.filter((action) => action.return);
      const changes: ChangedOrder[] = [];
      for (let start = 0; start < toConfirm.length; start += ORDERS_PER_CHANGE) {
        const chunk = toConfirm.slice(start, start + ORDERS_PER_CHANGE);
        changes.push(...(await transitionOrders(trx, 'completed', chunk.map((action) => ({ id: action.orderId, railReference: action.railReference, detail: { ...detail(action), confirmed_by: 'statement' } })))));
      }
      let returned = 0;
      for (let start = 0; start < toReturn.length; start += ORDERS_PER_CHANGE) {
        const chunk = toReturn.slice(start, start + ORDERS_PER_CHANGE);
        const done = await transitionOrders(trx, 'returned', chunk.map((action) => {
          const reasonCode = action.reasonCode ?? 'NARR';
          return { id: action.orderId, failureCode: reasonCode, failureReason: `returned by the payee's bank: ${describeReturnReason(reasonCode)}`, detail: { ...detail(action), reason_code: reasonCode } };
        }));
        returned += done.length;
        changes.push(...done);
        await restoreReturnedFunds(trx, done.map((change) => change.order));
      }
      const confirmed = changes.filter((change) => change.order.status === 'completed').length;
      step('orders');

      const found = await resolveFoundMissing(trx, statement.id, runId);
      for (const exception of found) {
        await appendAudit(trx, {
          organisationId: exception.organisationId, clientId: null, actor: 'reconciliation', action: 'reconciliation.exception.resolve', target: exception.id,
          sourceIp: null, requestId: null, detail: { type: exception.type, order_id: exception.orderId, reason: exception.resolution, run_id: runId },
        });
      }
      step('resolve');
      const counts = await lineCounts(trx, statement.id);
      const completed = await completeRun(trx, runId, {
        lines: counts.lines, matched: counts.lines - counts.unmatched, unmatched: counts.unmatched, exceptionsByType, confirmed, returned, autoResolved: found.length,
      });
      await appendAudit(trx, {
        organisationId: starter.organisationId, clientId: starter.clientId, actor: starter.name, action: 'reconciliation.run', target: runId,
        sourceIp: origin?.sourceIp ?? null, requestId: origin?.requestId ?? null,
        detail: { statement_id: statement.id, source: statement.source, trigger, lines: completed.lines, matched: completed.matched, exceptions: completed.exceptionsByType, confirmed, returned },
      });
      return { run: completed, changed: changes };
    });
  } catch (error) {
    await failRun(context.db, runId, (error as Error).message).catch(() => undefined);
    context.logger.error({ err: error, runId, statementId: statement.id }, 'reconciliation failed');
    throw error;
  }
  const { run, changed } = outcome;
  countTransitions(context, changed);
  await context.queues.deliverWebhooks(webhooksOf(changed));
  context.logger.info({ ms: Math.round(performance.now() - started), steps, runId, statementId: statement.id, source: statement.source, lines: run.lines, matched: run.matched, exceptions: run.exceptionsByType }, 'reconciliation run finished');
  return { run };
}
