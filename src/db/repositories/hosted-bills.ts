import type { Database } from '../knex.ts';

/** A bill of a biller whose register Kassa holds, in minor units of its currency. */
export interface HostedBill {
  readonly billId: string;
  readonly currency: string;
  readonly amountOnDueMinor: bigint;
  readonly amountAfterDueMinor: bigint | null;
  readonly dueAt: Date | null;
  readonly description: string | null;
}

interface HostedBillRow {
  bill_id: string;
  currency: string;
  amount_on_due_minor: string;
  amount_after_due_minor: string | null;
  due_at: Date | null;
  description: string | null;
}

function hostedBillFromRow(row: HostedBillRow): HostedBill {
  return {
    billId: row.bill_id, currency: row.currency.trim(), amountOnDueMinor: BigInt(row.amount_on_due_minor),
    amountAfterDueMinor: row.amount_after_due_minor === null ? null : BigInt(row.amount_after_due_minor), dueAt: row.due_at, description: row.description,
  };
}

export async function findHostedBill(db: Database, billerId: string, billId: string): Promise<HostedBill | undefined> {
  const row = (await db('hosted_bills').where({ biller_id: billerId, bill_id: billId }).first()) as HostedBillRow | undefined;
  return row ? hostedBillFromRow(row) : undefined;
}

export async function findHostedBills(db: Database, billerId: string, billIds: readonly string[]): Promise<Map<string, HostedBill>> {
  const rows = (await db('hosted_bills').where({ biller_id: billerId }).whereIn('bill_id', [...billIds])) as HostedBillRow[];
  return new Map(rows.map((row) => [row.bill_id, hostedBillFromRow(row)]));
}

/** Writes the bills into the biller's register, replacing what an earlier load said about the same bill IDs. */
export async function putHostedBills(db: Database, billerId: string, bills: readonly HostedBill[]): Promise<void> {
  if (bills.length === 0) return;
  await db('hosted_bills')
    .insert(bills.map((bill) => ({
      biller_id: billerId, bill_id: bill.billId, currency: bill.currency, amount_on_due_minor: bill.amountOnDueMinor.toString(),
      amount_after_due_minor: bill.amountAfterDueMinor?.toString() ?? null, due_at: bill.dueAt, description: bill.description,
    })))
    .onConflict(['biller_id', 'bill_id'])
    .merge(['currency', 'amount_on_due_minor', 'amount_after_due_minor', 'due_at', 'description', 'updated_at']);
}
