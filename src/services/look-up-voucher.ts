import type { Caller } from '../domain/caller.ts';
import { ProblemError } from '../domain/errors.ts';
import { grants } from '../domain/scopes.ts';
import { findVoucher, type VoucherView } from '../db/repositories/vouchers.ts';
import type { Database } from '../db/knex.ts';

/** The issuer, a merchant about to redeem, or a reader of the organisation's payments may check a voucher by its serial number. */
export async function lookUpVoucher(db: Database, caller: Caller, serialNumber: bigint | undefined, registeringInstitution?: string): Promise<VoucherView | undefined> {
  if (!(['benefits:write', 'vouchers:redeem', 'orders:read'] as const).some((scope) => grants(caller.scopes, scope))) {
    throw new ProblemError(403, 'insufficient_scope', 'Forbidden', 'checking a voucher needs the benefits:write, vouchers:redeem or orders:read scope');
  }
  return serialNumber === undefined ? undefined : findVoucher(db, { organisationId: caller.organisationId, registeringInstitution }, serialNumber);
}
