import { accountAfterUpdate, maskFinancialAddress, type BeneficiaryAccount, type BeneficiaryOutcome } from '../domain/beneficiary.ts';
import type { Caller, RequestOrigin } from '../domain/caller.ts';
import { changeBeneficiaries, lockBeneficiaries } from '../db/repositories/beneficiaries.ts';
import type { ServiceContext } from './context.ts';
import { runRegistrarRequest, updateCallbackBody, type BeneficiaryResults, type RegistrarOperation, type RegistrarRequest } from './registrar-requests.ts';

const UPDATE: RegistrarOperation = {
  name: 'beneficiaries.update', verb: 'updated', callbackEventType: 'beneficiaries.updated', callbackBody: updateCallbackBody,
};

const auditedAccount = (account: BeneficiaryAccount) => ({ modality: account.modality, maskedAddress: maskFinancialAddress(account.financialAddress), institutionCode: account.institutionCode });

/**
 * Changes where registered beneficiaries are paid; the functional id only names the beneficiary and never
 * changes. An id the institution never registered is reported, as is a change that would leave an address its
 * modality cannot pay. Changing where benefits go is what fraud looks like, so the audit entry keeps each
 * beneficiary's account before and after, masked.
 */
export async function updateBeneficiaries(context: Pick<ServiceContext, 'db' | 'queues' | 'logger'>, caller: Caller, origin: RequestOrigin, request: RegistrarRequest): Promise<BeneficiaryResults> {
  return runRegistrarRequest(context, caller, origin, request, UPDATE, async (trx) => {
    const current = await lockBeneficiaries(trx, caller.organisationId, request.registeringInstitution, [...new Set(request.beneficiaries.map((entry) => entry.functionalId))]);
    const seen = new Set<string>();
    const accounts: BeneficiaryAccount[] = [];
    const outcomes = request.beneficiaries.map((entry): BeneficiaryOutcome => {
      const stored = current.get(entry.functionalId);
      const outcome = { functionalId: entry.functionalId, modality: entry.modality ?? stored?.modality ?? null, institutionCode: entry.institutionCode ?? stored?.institutionCode ?? null };
      if (seen.has(entry.functionalId)) return { ...outcome, result: 'duplicate', reason: 'appears more than once in the request' };
      seen.add(entry.functionalId);
      if (!stored) return { ...outcome, result: 'unknown', reason: 'not registered by this institution' };
      const updated = accountAfterUpdate(stored, entry);
      if ('problem' in updated) return { ...outcome, result: 'invalid', reason: updated.problem };
      accounts.push(updated.account);
      return { ...outcome, institutionCode: updated.account.institutionCode, result: 'updated' };
    });
    await changeBeneficiaries(trx, caller.organisationId, request.registeringInstitution, accounts);
    const changes = accounts.map((account) => ({ functionalId: account.functionalId, from: auditedAccount(current.get(account.functionalId)!), to: auditedAccount(account) }));
    return { outcomes, auditDetail: { changes } };
  });
}
