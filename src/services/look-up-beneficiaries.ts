import type { Beneficiary } from '../domain/beneficiary.ts';
import type { Caller, RequestOrigin } from '../domain/caller.ts';
import { appendAudit } from '../db/repositories/audit-log.ts';
import { findBeneficiaries } from '../db/repositories/beneficiaries.ts';
import type { ServiceContext } from './context.ts';

export interface LookupRequest {
  readonly requestId: string;
  readonly registeringInstitution: string;
  readonly functionalIds: readonly string[];
}

/**
 * Where the institution's beneficiaries are paid, in the order asked, each once; ids it has not registered are
 * left out. Reading financial addresses is recorded in the audit log like any change.
 */
export async function lookUpBeneficiaries(context: Pick<ServiceContext, 'db'>, caller: Caller, origin: RequestOrigin, request: LookupRequest): Promise<Beneficiary[]> {
  const functionalIds = [...new Set(request.functionalIds)];
  const found = await findBeneficiaries(context.db, caller.organisationId, request.registeringInstitution, functionalIds);
  await appendAudit(context.db, {
    organisationId: caller.organisationId, clientId: caller.clientId, actor: caller.clientName, action: 'beneficiaries.look_up',
    target: request.registeringInstitution, sourceIp: origin.sourceIp, requestId: origin.requestId,
    detail: { registrarRequestId: request.requestId, requested: functionalIds.length, found: found.size },
  });
  return functionalIds.flatMap((id) => found.get(id) ?? []);
}
