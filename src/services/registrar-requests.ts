import { createHash, randomBytes } from 'node:crypto';
import { isModalityCode, maskFinancialAddress, type BeneficiaryEntry, type BeneficiaryOutcome } from '../domain/beneficiary.ts';
import type { ServiceContext } from './context.ts';
import type { Idempotency } from './idempotent-replay.ts';

// What registering and updating beneficiaries share: the registrar's RequestID as idempotency key, the GovStack
// callbacks that report per-beneficiary results, and what of those results may reach a log.

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

/**
 * The registrar's RequestID is the idempotency key, per operation and registering institution. The hash covers
 * the beneficiaries as values, so the same request sent through either API generation is the same request.
 */
export function registrarIdempotency(operation: string, request: RegistrarRequest): Idempotency {
  const entries = request.beneficiaries.map((entry) => [entry.functionalId, entry.modality ?? null, entry.financialAddress ?? null, entry.institutionCode ?? null]);
  return {
    key: `govstack ${JSON.stringify([operation, request.registeringInstitution, request.requestId])}`,
    requestHash: createHash('sha256').update(JSON.stringify([operation, request.registeringInstitution, entries, request.callbackUrl ?? null])).digest('hex'),
  };
}

/** One callback per registrar request and operation, however often the request is sent. */
export const callbackDedupeKey = (operation: string, request: RegistrarRequest) => `${operation} ${JSON.stringify([request.registeringInstitution, request.requestId])}`;

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

export function countResults(outcomes: readonly BeneficiaryOutcome[]): Record<BeneficiaryOutcome['result'], number> {
  const counts = { registered: 0, updated: 0, duplicate: 0, invalid: 0, unknown: 0 };
  for (const outcome of outcomes) counts[outcome.result] += 1;
  return counts;
}

const LOGGED_REFUSALS = 20;

/** Logs the counts, and a sample of the refusals with functional ids and addresses masked. */
export function logResults(context: Pick<ServiceContext, 'logger'>, request: RegistrarRequest, outcomes: readonly BeneficiaryOutcome[], verb: 'registered' | 'updated'): void {
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
