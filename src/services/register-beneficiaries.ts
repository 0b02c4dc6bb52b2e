import { accountToRegister, type BeneficiaryAccount, type BeneficiaryOutcome } from '../domain/beneficiary.ts';
import type { Caller, RequestOrigin } from '../domain/caller.ts';
import { insertBeneficiaries } from '../db/repositories/beneficiaries.ts';
import type { ServiceContext } from './context.ts';
import { registrationCallbackBody, runRegistrarRequest, type BeneficiaryResults, type RegistrarOperation, type RegistrarRequest } from './registrar-requests.ts';

const REGISTRATION: RegistrarOperation = {
  name: 'beneficiaries.register', verb: 'registered', callbackEventType: 'beneficiaries.registered', callbackBody: registrationCallbackBody,
};

/**
 * Adds the beneficiaries a registrar sends to the account mapper. Each is judged on its own: one with a bad
 * address, or one the institution registered before, is reported and the rest are registered. The rows, the
 * audit entry and the callback commit together.
 */
export async function registerBeneficiaries(context: Pick<ServiceContext, 'db' | 'queues' | 'logger'>, caller: Caller, origin: RequestOrigin, request: RegistrarRequest): Promise<BeneficiaryResults> {
  return runRegistrarRequest(context, caller, origin, request, REGISTRATION, async (trx) => {
    const seen = new Set<string>();
    const accounts: BeneficiaryAccount[] = [];
    const judged = request.beneficiaries.map((entry): BeneficiaryOutcome | BeneficiaryAccount => {
      const refused = (result: BeneficiaryOutcome['result'], reason: string): BeneficiaryOutcome =>
        ({ functionalId: entry.functionalId, result, modality: entry.modality ?? null, institutionCode: entry.institutionCode ?? null, reason });
      if (seen.has(entry.functionalId)) return refused('duplicate', 'appears more than once in the request');
      seen.add(entry.functionalId);
      const registrable = accountToRegister(entry);
      if ('problem' in registrable) return refused('invalid', registrable.problem);
      accounts.push(registrable.account);
      return registrable.account;
    });
    const { duplicates } = await insertBeneficiaries(trx, caller.organisationId, request.registeringInstitution, accounts);
    const outcomes = judged.map((item): BeneficiaryOutcome => {
      if ('result' in item) return item;
      const outcome = { functionalId: item.functionalId, modality: item.modality, institutionCode: item.institutionCode };
      return duplicates.has(item.functionalId) ? { ...outcome, result: 'duplicate', reason: 'already registered by this institution' } : { ...outcome, result: 'registered' };
    });
    return { outcomes };
  });
}
