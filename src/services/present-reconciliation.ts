import { formatMoney } from '../domain/money.ts';
import type { ReconciliationException, ReconciliationRun } from '../db/repositories/reconciliation.ts';
import type { Statement } from '../db/repositories/statements.ts';

const money = (minor: bigint | null, currency: string | null) => (minor === null || currency === null ? null : minor < 0n ? `-${formatMoney({ minor: -minor, currency })}` : formatMoney({ minor, currency }));

/** The public shapes of statements, runs and exceptions. */
export function presentStatement(statement: Statement) {
  return {
    id: statement.id,
    rail: statement.source,
    format: statement.format,
    file_hash: statement.fileHash,
    statement_ref: statement.statementRef,
    account: statement.account,
    currency: statement.currency,
    period: { from: statement.periodFrom, to: statement.periodTo },
    opening_balance: money(statement.openingBalanceMinor, statement.currency),
    closing_balance: money(statement.closingBalanceMinor, statement.currency),
    reports: statement.reports,
    lines: statement.lineCount,
    imported_by: statement.importedBy,
    imported_at: statement.importedAt.toISOString(),
  };
}

export function presentRun(run: ReconciliationRun) {
  return {
    id: run.id,
    statement_id: run.statementId,
    rail: run.source,
    period: { from: run.periodFrom, to: run.periodTo },
    trigger: run.trigger,
    status: run.status,
    lines: run.lines,
    matched: run.matched,
    unmatched: run.unmatched,
    exceptions: Object.values(run.exceptionsByType).reduce((sum, count) => sum + (count ?? 0), 0),
    exceptions_by_type: run.exceptionsByType,
    confirmed: run.confirmed,
    returned: run.returned,
    auto_resolved: run.autoResolved,
    started_by: run.startedBy,
    started_at: run.startedAt.toISOString(),
    finished_at: run.finishedAt?.toISOString() ?? null,
    error: run.error,
  };
}

export function presentException(exception: ReconciliationException) {
  return {
    id: exception.id,
    type: exception.type,
    severity: exception.severity,
    status: exception.status,
    rail: exception.source,
    organisation_id: exception.organisationId,
    order_id: exception.orderId,
    statement_id: exception.statementId,
    line: exception.lineNumber,
    rail_key: exception.railKey,
    rail_reference: exception.railReference,
    amount: money(exception.amountMinor, exception.currency),
    currency: exception.currency,
    detail: exception.detail,
    run_id: exception.runId,
    assignee: exception.assignee,
    assigned_at: exception.assignedAt?.toISOString() ?? null,
    resolution: exception.resolution === null ? null : { reason: exception.resolution, by: exception.resolvedBy, at: exception.resolvedAt?.toISOString() ?? null },
    created_at: exception.createdAt.toISOString(),
    updated_at: exception.updatedAt.toISOString(),
  };
}
