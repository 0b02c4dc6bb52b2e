import { createHash, randomBytes } from 'node:crypto';
import { isModalityCode, maskFinancialAddress, type BeneficiaryEntry, type BeneficiaryOutcome } from '../domain/beneficiary.ts';
import type { Caller, RequestOrigin } from '../domain/caller.ts';
import type { Database } from '../db/knex.ts';
import { appendAudit } from '../db/repositories/audit-log.ts';
import type { ServiceContext } from './context.ts';
import type { Idempotency } from './idempotent-replay.ts';
import { queueCallback } from './queue-callback.ts';
import { runOnce } from './run-once.ts';

// What registering and updating beneficiaries share: how a registrar's request runs (once per RequestID, its
// audit entry and callback committed with the beneficiaries), the GovStack callbacks that report per-beneficiary
// results, and what of those results may reach a log.

/** A registration or an update of beneficiaries, as a registering institution sends it. */
export interface RegistrarRequest {
  /** The registrar's id for this request; sending it again with the same beneficiaries answers the same. */
  readonly requestId: string;
  readonly registeringInstitution: string;
  readonly beneficiaries: readonly BeneficiaryEntry[];
  /** Where the per-beneficiary results are pushed (GovStack v3); without it they are only answered. */
  readonly callbackUrl?: string;
}

export interface BeneficiaryResults {
  /** One per beneficiary sent, in the order sent. */
  readonly outcomes: readonly BeneficiaryOutcome[];
  readonly replayed: boolean;
}

/** Registering or updating beneficiaries, as a route calls either. */
export type RegistrarService = (context: Pick<ServiceContext, 'db' | 'queues' | 'logger'>, caller: Caller, origin: RequestOrigin, request: RegistrarRequest) => Promise<BeneficiaryResults>;

/** What tells a registration from an update, to the steps they share. */
export interface RegistrarOperation {
  /** The audit action; it also keys the request's idempotency and its callback. */
  readonly name: string;
  /** What the beneficiaries that succeeded became, for the log. */
  readonly verb: 'registered' | 'updated';
  readonly callbackEventType: string;
  readonly callbackBody: (requestId: string, outcomes: readonly BeneficiaryOutcome[]) => unknown;
}

/**
 * Runs a registrar's request the first time its RequestID is seen: `apply` judges and writes the beneficiaries
 * in the transaction, and the audit entry and the callback commit with them. A repeat answers the first
 * outcomes without running or logging again.
 */
export async function runRegistrarRequest(
  context: Pick<ServiceContext, 'db' | 'queues' | 'logger'>,
  caller: Caller,
  origin: RequestOrigin,
  request: RegistrarRequest,
  operation: RegistrarOperation,
  apply: (trx: Database) => Promise<{ outcomes: BeneficiaryOutcome[]; auditDetail?: Record<string, unknown> }>,
): Promise<BeneficiaryResults> {
  const { result: outcomes, replayed } = await runOnce(context.db, caller.organisationId, registrarIdempotency(operation.name, request), async (trx) => {
    const { outcomes, auditDetail } = await apply(trx);
    await appendAudit(trx, {
      organisationId: caller.organisationId, clientId: caller.clientId, actor: caller.clientName, action: operation.name,
      target: request.registeringInstitution, sourceIp: origin.sourceIp, requestId: origin.requestId,
      detail: { registrarRequestId: request.requestId, ...countResults(outcomes), callback: request.callbackUrl !== undefined, ...auditDetail },
    });
    if (request.callbackUrl) {
      await queueCallback(context, {
        organisationId: caller.organisationId, url: request.callbackUrl, eventType: operation.callbackEventType,
        body: operation.callbackBody(request.requestId, outcomes), dedupeKey: callbackDedupeKey(operation.name, request),
      }, trx);
    }
    return outcomes;
  });
  if (!replayed) logResults(context, request, outcomes, operation.verb);
  return { outcomes, replayed };
}

/**
 * The registrar's RequestID is the idempotency key, per operation and registering institution. The hash covers
 * the beneficiaries as values, so the same request sent through either API generation is the same request.
 */
function registrarIdempotency(operation: string, request: RegistrarRequest): Idempotency {
  const entries = request.beneficiaries.map((entry) => [entry.functionalId, entry.modality ?? null, entry.financialAddress ?? null, entry.institutionCode ?? null]);
  return {
    key: `govstack ${JSON.stringify([operation, request.registeringInstitution, request.requestId])}`,
    requestHash: createHash('sha256').update(JSON.stringify([operation, request.registeringInstitution, entries, request.callbackUrl ?? null])).digest('hex'),
  };
}

/** One callback per registrar request and operation, however often the request is sent. */
const callbackDedupeKey = (operation: string, request: RegistrarRequest) => `${operation} ${JSON.stringify([request.registeringInstitution, request.requestId])}`;

const succeeded = (outcome: BeneficiaryOutcome) => outcome.result === 'registered' || outcome.result === 'updated';

/** GovStack limits a failure reason to 100 characters. */
const MAX_REASON_LENGTH = 100;

/** A fresh 12-character GovStack request id for a message Kassa originates. */
const newGovStackRequestId = () => randomBytes(6).toString('hex');

function failedCases(outcomes: readonly BeneficiaryOutcome[], idField: 'payeeIdentity' | 'payeeFunctionalID') {
  return outcomes
    .filter((outcome) => !succeeded(outcome))
    .map((outcome) => ({
      [idField]: outcome.functionalId,
      ...(outcome.institutionCode ? { bankingInstitutionCode: outcome.institutionCode } : {}),
      ...(outcome.modality !== null && isModalityCode(outcome.modality) ? { paymentModality: outcome.modality } : {}),
      failureReason: `${outcome.result}: ${outcome.reason ?? ''}`.slice(0, MAX_REASON_LENGTH),
    }));
}

/** The GovStack v3 Register Beneficiary Response callback (RegisterBeneficiaryResponse.yml). */
export function registrationCallbackBody(registerRequestId: string, outcomes: readonly BeneficiaryOutcome[]) {
  const failures = failedCases(outcomes, 'payeeIdentity');
  return { requestID: newGovStackRequestId(), registerRequestID: registerRequestId, numberFailedCases: failures.length, failedCases: failures };
}

/** The GovStack v3 Update Beneficiary Response callback (UpdateBeneficiaryResponse.yml); it names the update's id registerRequestID too. */
export function updateCallbackBody(updateRequestId: string, outcomes: readonly BeneficiaryOutcome[]) {
  const failures = failedCases(outcomes, 'payeeFunctionalID');
  return { requestID: newGovStackRequestId(), registerRequestID: updateRequestId, numberFailedCases: failures.length, failedCases: failures };
}

function countResults(outcomes: readonly BeneficiaryOutcome[]): Record<BeneficiaryOutcome['result'], number> {
  const counts = { registered: 0, updated: 0, duplicate: 0, invalid: 0, unknown: 0 };
  for (const outcome of outcomes) counts[outcome.result] += 1;
  return counts;
}

const LOGGED_REFUSALS = 20;

/** Logs the counts, and a sample of the refusals with functional ids and addresses masked. */
function logResults(context: Pick<ServiceContext, 'logger'>, request: RegistrarRequest, outcomes: readonly BeneficiaryOutcome[], verb: 'registered' | 'updated'): void {
  context.logger.info({ registrarRequestId: request.requestId, registeringInstitution: request.registeringInstitution, ...countResults(outcomes) }, `beneficiaries ${verb}`);
  const refusals = outcomes
    .map((outcome, index) => ({ outcome, address: request.beneficiaries[index]?.financialAddress }))
    .filter(({ outcome }) => !succeeded(outcome))
    .slice(0, LOGGED_REFUSALS)
    .map(({ outcome, address }) => ({
      maskedFunctionalId: maskFinancialAddress(outcome.functionalId),
      result: outcome.result,
      reason: outcome.reason,
      ...(address === undefined ? {} : { maskedAddress: maskFinancialAddress(address) }),
    }));
  if (refusals.length > 0) context.logger.warn({ registrarRequestId: request.requestId, refusals }, `beneficiaries not ${verb}`);
}
