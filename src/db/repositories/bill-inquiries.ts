import type { Database } from '../knex.ts';

/** A bill as its biller described it to one payer institution's inquiry: what a payment against it owes. */
export interface BillInquiry {
  readonly id: string;
  /** The payer institution's organisation. */
  readonly organisationId: string;
  /** The inquiry's X-CorrelationID, which a payment names as its billInquiryRequestId. */
  readonly correlationId: string;
  readonly payerInstitutionId: string;
  readonly billerId: string;
  readonly billId: string;
  /** The status the biller gave the bill (free text, e.g. UNPAID). */
  readonly billerBillStatus: string | null;
  readonly currency: string;
  readonly amountOnDueMinor: bigint;
  readonly amountAfterDueMinor: bigint | null;
  readonly dueAt: Date | null;
  readonly createdAt: Date;
}

interface BillInquiryRow {
  id: string;
  organisation_id: string;
  correlation_id: string;
  payer_institution_id: string;
  biller_id: string;
  bill_id: string;
  biller_bill_status: string | null;
  currency: string;
  amount_on_due_minor: string;
  amount_after_due_minor: string | null;
  due_at: Date | null;
  created_at: Date;
}

function inquiryFromRow(row: BillInquiryRow): BillInquiry {
  return {
    id: row.id, organisationId: row.organisation_id, correlationId: row.correlation_id, payerInstitutionId: row.payer_institution_id,
    billerId: row.biller_id, billId: row.bill_id, billerBillStatus: row.biller_bill_status, currency: row.currency.trim(),
    amountOnDueMinor: BigInt(row.amount_on_due_minor), amountAfterDueMinor: row.amount_after_due_minor === null ? null : BigInt(row.amount_after_due_minor),
    dueAt: row.due_at, createdAt: row.created_at,
  };
}

export async function insertBillInquiry(db: Database, inquiry: Omit<BillInquiry, 'createdAt'>): Promise<void> {
  await db('bill_inquiries').insert({
    id: inquiry.id, organisation_id: inquiry.organisationId, correlation_id: inquiry.correlationId, payer_institution_id: inquiry.payerInstitutionId,
    biller_id: inquiry.billerId, bill_id: inquiry.billId, biller_bill_status: inquiry.billerBillStatus, currency: inquiry.currency,
    amount_on_due_minor: inquiry.amountOnDueMinor.toString(), amount_after_due_minor: inquiry.amountAfterDueMinor?.toString() ?? null, due_at: inquiry.dueAt,
  });
}

export async function findBillInquiry(db: Database, organisationId: string, correlationId: string): Promise<BillInquiry | undefined> {
  const row = await db<BillInquiryRow>('bill_inquiries').where({ organisation_id: organisationId, correlation_id: correlationId }).first();
  return row ? inquiryFromRow(row) : undefined;
}
