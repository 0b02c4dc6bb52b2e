import type { Biller } from '../db/repositories/billers.ts';
import { findHostedBill } from '../db/repositories/hosted-bills.ts';
import type { Database } from '../db/knex.ts';
import type { BillSourceAnswer } from './bill-source.ts';

/**
 * The bill inquiry of a biller whose register Kassa holds: answered from the register, in the shape a biller's
 * own bill source gives, so a payment pays against it exactly as against any other biller's bill.
 */
export async function askBillRegister(db: Database, biller: Biller, billId: string): Promise<BillSourceAnswer> {
  const bill = await findHostedBill(db, biller.id, billId);
  if (!bill) return { outcome: 'no_bill', reason: `biller ${biller.code} has no bill ${billId} in its register` };
  return {
    outcome: 'bill',
    bill: { billerName: biller.name, billStatus: 'unpaid', dueAt: bill.dueAt, currency: bill.currency, amountOnDueMinor: bill.amountOnDueMinor, amountAfterDueMinor: bill.amountAfterDueMinor },
  };
}
