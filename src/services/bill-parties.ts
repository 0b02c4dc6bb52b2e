import type { Caller } from '../domain/caller.ts';
import { ProblemError } from '../domain/errors.ts';
import { findBillerByCode, findBillerForBill, type Biller } from '../db/repositories/billers.ts';
import { findPayerInstitutionByCode, type PayerInstitution } from '../db/repositories/payer-institutions.ts';
import type { Database } from '../db/knex.ts';

// Who a P2G request is about, as every bill use case finds them: the caller's own payer institution or biller
// (another organisation's is not found, as any other tenant's object), and the biller a bill ID belongs to.

export async function ownPayerInstitution(db: Database, caller: Caller, code: string): Promise<PayerInstitution> {
  const institution = await findPayerInstitutionByCode(db, code);
  if (!institution || institution.organisationId !== caller.organisationId) {
    throw new ProblemError(404, 'payer_institution_not_found', 'Not found', `payer institution ${code} is not linked to this organisation`);
  }
  return institution;
}

export async function ownBiller(db: Database, caller: Caller, code: string): Promise<Biller> {
  const biller = await findBillerByCode(db, code);
  if (!biller || biller.organisationId !== caller.organisationId) throw new ProblemError(404, 'biller_not_found', 'Not found', `biller ${code} is not registered to this organisation`);
  return biller;
}

/** The biller whose prefix the bill ID carries, whoever it belongs to: any payer institution may pay any biller. */
export async function billerOfBill(db: Database, billId: string): Promise<Biller> {
  const biller = await findBillerForBill(db, billId);
  if (!biller) throw new ProblemError(404, 'biller_not_found', 'Not found', `no biller is registered for bill ID ${billId}`);
  return biller;
}
