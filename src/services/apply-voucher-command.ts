import { createHash, randomBytes } from 'node:crypto';
import type { Caller, RequestOrigin } from '../domain/caller.ts';
import { ProblemError } from '../domain/errors.ts';
import { grants } from '../domain/scopes.ts';
import { COMMAND_DONE, GOVSTACK_VOUCHER_CODES, refusalOf, releasesBudget, type SerialCommand, type VoucherRefusal } from '../domain/voucher.ts';
import { appendAudit } from '../db/repositories/audit-log.ts';
import { findVoucherStates, transitionVouchers, type VoucherScope } from '../db/repositories/vouchers.ts';
import type { Database } from '../db/knex.ts';
import type { ServiceContext } from './context.ts';
import { queueCallback } from './queue-callback.ts';
import { runOnce } from './run-once.ts';
import { releaseVoucherAmounts } from './voucher-budget.ts';

/** A voucher named by the caller: its serial number as given, and as a number when it can be one. */
export interface NamedVoucher {
  readonly given: string;
  readonly serialNumber: bigint | undefined;
}

export interface VoucherCommandRequest {
  readonly command: SerialCommand;
  /** The caller's id for the request: sent again with the same vouchers, it answers the first outcome. */
  readonly requestId: string | null;
  readonly vouchers: readonly NamedVoucher[];
  /** GovStack's issuing agency: when named, only its vouchers are reached. */
  readonly registeringInstitution?: string;
  /** Where the per-voucher outcome is pushed (GovStack's activation and cancellation responses). */
  readonly callbackUrl: string | null;
}

export interface VoucherFailure {
  readonly serialNumber: string;
  readonly reason: VoucherRefusal;
}

export interface VoucherCommandOutcome {
  readonly requested: number;
  /** Vouchers not where the command takes them, with why; the others are there now. */
  readonly failures: readonly VoucherFailure[];
  readonly replayed: boolean;
}


/**
 * Activates, suspends, unsuspends or cancels the vouchers named, each judged on its own: in one transaction the
 * state machine's guarded UPDATE changes those it allows (with an event each), a cancellation gives their amounts
 * back to the programs' budgets, and the others are reported with GovStack's reason. A voucher already where the
 * command takes it is no failure, so a repeated activation is harmless.
 */
export async function applyVoucherCommand(context: Pick<ServiceContext, 'db' | 'queues' | 'logger'>, caller: Caller, origin: RequestOrigin, request: VoucherCommandRequest): Promise<VoucherCommandOutcome> {
  if (!grants(caller.scopes, 'benefits:write')) throw new ProblemError(403, 'insufficient_scope', 'Forbidden', `to ${request.command} vouchers needs the benefits:write scope`);
  const work = (trx: Database) => apply(context, trx, caller, origin, request);
  if (request.requestId === null) return { ...(await context.db.transaction(work)), replayed: false };
  const { result, replayed } = await runOnce(context.db, caller.organisationId, commandIdempotency(request), work);
  return { ...result, replayed };
}

function commandIdempotency(request: VoucherCommandRequest) {
  return {
    key: `govstack ${JSON.stringify([`vouchers.${request.command}`, request.requestId])}`,
    requestHash: createHash('sha256').update(JSON.stringify([request.registeringInstitution ?? null, request.callbackUrl, request.vouchers.map((voucher) => voucher.given)])).digest('hex'),
  };
}

async function apply(context: Pick<ServiceContext, 'db' | 'queues' | 'logger'>, trx: Database, caller: Caller, origin: RequestOrigin, request: VoucherCommandRequest) {
  const scope: VoucherScope = { organisationId: caller.organisationId, registeringInstitution: request.registeringInstitution };
  const serials = [...new Set(request.vouchers.flatMap((voucher) => (voucher.serialNumber === undefined ? [] : [voucher.serialNumber])))];
  const changed = await transitionVouchers(trx, scope, request.command, serials, { request_id: request.requestId, by: caller.clientId });
  if (releasesBudget(request.command)) await releaseVoucherAmounts(trx, changed);
  const changedSerials = new Set(changed.map((voucher) => voucher.serialNumber));
  const states = await findVoucherStates(trx, scope, serials.filter((serial) => !changedSerials.has(serial)));
  const failures = request.vouchers.flatMap((voucher): VoucherFailure[] => {
    if (voucher.serialNumber !== undefined && changedSerials.has(voucher.serialNumber)) return [];
    const reason = refusalOf(request.command, voucher.serialNumber === undefined ? undefined : states.get(voucher.serialNumber));
    return reason === undefined ? [] : [{ serialNumber: voucher.given, reason }];
  });
  await appendAudit(trx, {
    organisationId: caller.organisationId, clientId: caller.clientId, actor: caller.clientName, action: `voucher.${request.command}`,
    target: request.requestId ?? (request.vouchers.length === 1 ? request.vouchers[0]!.given : null), sourceIp: origin.sourceIp, requestId: origin.requestId,
    detail: { requested: request.vouchers.length, changed: changed.length, failed: failures.length },
  });
  if (request.callbackUrl) {
    await queueCallback(context, {
      organisationId: caller.organisationId, url: request.callbackUrl, eventType: `vouchers.${COMMAND_DONE[request.command]}`,
      body: outcomeCallbackBody(request.requestId ?? origin.requestId, failures),
      dedupeKey: `vouchers.${request.command} ${JSON.stringify([request.requestId ?? origin.requestId])}`,
    }, trx);
  }
  return { requested: request.vouchers.length, failures };
}

/**
 * GovStack's Voucher_Activate_Response and Voucher_Cancellation_Response (VoucherActivateResponse.yml,
 * VoucherCancellationResponse.yml), which share one shape; suspensions are reported the same way.
 */
function outcomeCallbackBody(registerRequestId: string, failures: readonly VoucherFailure[]) {
  return {
    requestID: randomBytes(6).toString('hex'),
    registerRequestID: registerRequestId,
    numberFailedCases: failures.length,
    failedCases: failures.map((failure) => {
      const { code, message } = GOVSTACK_VOUCHER_CODES[failure.reason];
      return { serialNumber: failure.serialNumber, failureReason: `${code} ${message}` };
    }),
  };
}
