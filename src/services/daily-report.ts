import type { Caller } from '../domain/caller.ts';
import { notFound, ProblemError } from '../domain/errors.ts';
import { grants } from '../domain/scopes.ts';
import {
  allowReportMemory, findReportDay, listClearingPositions, listOpenExceptions, listPositions, listRailDays,
  type ClearingPosition, type OpenExceptions, type Position, type RailDay,
} from '../db/repositories/reports.ts';
import type { ServiceContext } from './context.ts';

export interface DailyReport {
  readonly date: string;
  readonly timeZone: string;
  readonly from: Date;
  readonly to: Date;
  /** Null: every organisation of the deployment. */
  readonly organisationId: string | null;
  readonly positions: readonly Position[];
  readonly clearing: readonly ClearingPosition[];
  readonly rails: readonly RailDay[];
  readonly exceptions: readonly OpenExceptions[];
}

/**
 * The treasury's day, from 00:00 to 24:00 in REPORT_TIMEZONE: per organisation, program and currency the
 * money collected, disbursed, returned and paid in rail fees with the balances around it; the clearing
 * accounts of each rail against the rail's statements; the reconciliation exceptions still open at its end.
 * Treasury (`treasury:read`) reads every organisation, or one by `organisationId`; an agency (`orders:read`)
 * its own only, another organisation being one that does not exist for it. Every figure comes from one
 * snapshot of the database, so that they tie out even while payments are being posted.
 */
export async function dailyReport(context: Pick<ServiceContext, 'db' | 'config'>, caller: Caller, request: { date: string; organisationId: string | null }): Promise<DailyReport> {
  const organisationId = organisationInScope(caller, request.organisationId);
  const timeZone = context.config.REPORT_TIMEZONE;
  return context.db.transaction(async (trx) => {
    const day = await findReportDay(trx, { date: request.date, timeZone, organisationId });
    if (organisationId !== null && day.organisationName === null) throw notFound(`organisation ${organisationId}`);
    const scope = { date: request.date, from: day.from, to: day.to, organisationId };
    await allowReportMemory(trx);
    return {
      date: request.date,
      timeZone,
      from: day.from,
      to: day.to,
      organisationId,
      positions: await listPositions(trx, scope),
      clearing: await listClearingPositions(trx, scope),
      rails: await listRailDays(trx, scope),
      exceptions: await listOpenExceptions(trx, scope),
    };
  }, { isolationLevel: 'repeatable read', readOnly: true });
}

/** The organisation the caller may read the report of: null for every organisation. */
function organisationInScope(caller: Caller, requested: string | null): string | null {
  if (grants(caller.scopes, 'treasury:read')) return requested;
  if (!grants(caller.scopes, 'orders:read')) {
    throw new ProblemError(403, 'insufficient_scope', 'Forbidden', 'the daily report needs the treasury:read scope, or orders:read for your own organisation');
  }
  if (requested !== null && requested !== caller.organisationId) throw notFound(`organisation ${requested}`);
  return caller.organisationId;
}
