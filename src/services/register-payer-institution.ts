import { randomUUID } from 'node:crypto';
import { conflict } from '../domain/errors.ts';
import type { Party } from '../domain/order.ts';
import { appendAudit, type AuditEntry } from '../db/repositories/audit-log.ts';
import { findPayerInstitution, insertPayerInstitution, type PayerInstitution } from '../db/repositories/payer-institutions.ts';
import type { Database } from '../db/knex.ts';

export interface PayerInstitutionRequest {
  readonly code: string;
  readonly name: string;
  readonly settlementAccount: Party;
  readonly rtpUrl: string | null;
}

/** Links a payer institution of the organisation to Kassa for bill payments (GovStack's Payer FI linking). */
export async function registerPayerInstitution(db: Database, organisationId: string, request: PayerInstitutionRequest, actor: Omit<AuditEntry, 'action' | 'target' | 'organisationId' | 'detail'>): Promise<PayerInstitution> {
  return db.transaction(async (trx) => {
    const id = randomUUID();
    if (!(await insertPayerInstitution(trx, { id, organisationId, ...request }))) throw conflict('payer_institution_exists', `the payer institution code ${request.code} is taken`);
    await appendAudit(trx, { ...actor, organisationId, action: 'payer_institution.register', target: id, detail: { code: request.code, takes_requests_to_pay: request.rtpUrl !== null } });
    return (await findPayerInstitution(trx, organisationId, id))!;
  });
}
