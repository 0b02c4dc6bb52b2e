import { UNPAID_ORDER_STATUSES, type MarkPaidAnswer, type MarkPaidRejectReason } from '../../domain/bill.ts';
import type { Money } from '../../domain/money.ts';
import type { OrderStatus } from '../../domain/order-status.ts';
import type { Database } from '../knex.ts';

/**
 * Where the biller's mark-paid notice stands: waiting for the fee order; being forwarded (retried until the biller
 * takes it); delivered, its answer awaited; answered; or never due because the payment failed.
 */
export type NoticeStatus = 'awaiting_payment' | 'forwarding' | 'delivered' | 'acknowledged' | 'rejected' | 'not_due';

export interface NewBillPayment {
  readonly id: string;
  readonly billerId: string;
  readonly billId: string;
  /** Null while the voucher paying the bill is being redeemed: the redemption makes the order. */
  readonly orderId: string | null;
  /** The hash of the voucher number paying the bill, as the voucher registry keeps it. */
  readonly voucherNumberHash: string | null;
  /** The payer institution's organisation. */
  readonly organisationId: string;
  readonly payerInstitutionId: string;
  readonly inquiryId: string | null;
  readonly transferRequestId: string | null;
  readonly requestId: string;
  readonly correlationId: string;
  readonly tenantId: string;
  readonly paymentReference: string;
  readonly callbackUrl: string | null;
}

/** A payment with what forwarding its notice and telling its payer need. */
export interface BillPayment extends NewBillPayment {
  readonly orderStatus: OrderStatus | null;
  readonly amount: Money | null;
  readonly payerInstitutionCode: string;
  readonly billerOrganisationId: string;
  readonly billSourceUrl: string | null;
  /** The biller organisation's webhook signing secret, which signs its notices when it has one. */
  readonly billerSecret: string | null;
  readonly released: boolean;
  readonly noticeStatus: NoticeStatus;
  readonly noticeAttempts: number;
  readonly noticeRejectReason: MarkPaidRejectReason | null;
  readonly createdAt: Date;
}

interface BillPaymentRow {
  id: string;
  biller_id: string;
  bill_id: string;
  order_id: string | null;
  voucher_number_hash: string | null;
  organisation_id: string;
  payer_institution_id: string;
  inquiry_id: string | null;
  transfer_request_id: string | null;
  request_id: string;
  correlation_id: string;
  tenant_id: string;
  payment_reference: string;
  callback_url: string | null;
  released_at: Date | null;
  notice_status: NoticeStatus;
  notice_attempts: number;
  notice_reject_reason: MarkPaidRejectReason | null;
  created_at: Date;
  order_status: OrderStatus | null;
  amount_minor: string | null;
  currency: string | null;
  payer_institution_code: string;
  biller_organisation_id: string;
  bill_source_url: string | null;
  biller_secret: string | null;
}

function paymentFromRow(row: BillPaymentRow): BillPayment {
  return {
    id: row.id, billerId: row.biller_id, billId: row.bill_id, orderId: row.order_id, voucherNumberHash: row.voucher_number_hash, organisationId: row.organisation_id,
    payerInstitutionId: row.payer_institution_id, inquiryId: row.inquiry_id, transferRequestId: row.transfer_request_id, requestId: row.request_id,
    correlationId: row.correlation_id, tenantId: row.tenant_id, paymentReference: row.payment_reference, callbackUrl: row.callback_url,
    orderStatus: row.order_status, amount: row.amount_minor === null ? null : { minor: BigInt(row.amount_minor), currency: row.currency!.trim() },
    payerInstitutionCode: row.payer_institution_code,
    billerOrganisationId: row.biller_organisation_id, billSourceUrl: row.bill_source_url, billerSecret: row.biller_secret, released: row.released_at !== null,
    noticeStatus: row.notice_status, noticeAttempts: row.notice_attempts, noticeRejectReason: row.notice_reject_reason, createdAt: row.created_at,
  };
}

const selectPayments = (db: Database) =>
  db('bill_payments as p')
    .leftJoin('orders as o', 'o.id', 'p.order_id')
    .join('billers as b', 'b.id', 'p.biller_id')
    .join('payer_institutions as i', 'i.id', 'p.payer_institution_id')
    .leftJoin('webhook_endpoints as w', 'w.organisation_id', 'b.organisation_id')
    .select(
      'p.*', 'o.status as order_status', 'o.amount_minor', 'o.currency', 'i.code as payer_institution_code', 'b.organisation_id as biller_organisation_id',
      'b.bill_source_url', 'w.secret as biller_secret',
    );

/** Releases the bill's live payment if its order failed or was cancelled: the bill becomes payable again. */
export async function releaseUnpaidBillPayment(db: Database, billerId: string, billId: string): Promise<void> {
  await db.raw(
    `UPDATE bill_payments p SET released_at = now(), notice_status = 'not_due'
     FROM orders o
     WHERE o.id = p.order_id AND p.biller_id = ? AND p.bill_id = ? AND p.released_at IS NULL AND o.status = ANY(?::text[])`,
    [billerId, billId, [...UNPAID_ORDER_STATUSES]],
  );
}

/**
 * Makes the payment the bill's live one; false when the bill has a live payment already. A concurrent claim of the
 * same bill waits here for the first to commit or roll back, so two payments of one bill cannot both be written.
 */
export async function claimBill(db: Database, payment: NewBillPayment): Promise<boolean> {
  const { rows } = (await db.raw(
    `INSERT INTO bill_payments (id, biller_id, bill_id, order_id, voucher_number_hash, organisation_id, payer_institution_id, inquiry_id,
                                transfer_request_id, request_id, correlation_id, tenant_id, payment_reference, callback_url)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (biller_id, bill_id) WHERE released_at IS NULL DO NOTHING
     RETURNING id`,
    [payment.id, payment.billerId, payment.billId, payment.orderId, payment.voucherNumberHash, payment.organisationId, payment.payerInstitutionId, payment.inquiryId,
      payment.transferRequestId, payment.requestId, payment.correlationId, payment.tenantId, payment.paymentReference, payment.callbackUrl],
  )) as { rows: { id: string }[] };
  return rows.length === 1;
}

export async function findBillPayment(db: Database, id: string): Promise<BillPayment | undefined> {
  const row = await selectPayments(db).where('p.id', id).first();
  return row ? paymentFromRow(row) : undefined;
}

/** The bill's live payment: under way, paid, or failed and not yet released. */
export async function findLiveBillPayment(db: Database, billerId: string, billId: string): Promise<BillPayment | undefined> {
  const row = await selectPayments(db).where({ 'p.biller_id': billerId, 'p.bill_id': billId }).whereNull('p.released_at').first();
  return row ? paymentFromRow(row) : undefined;
}

/** Gives a payment with a voucher the order its redemption made; false when it has one, or was released. */
export async function attachVoucherPayout(db: Database, id: string, orderId: string): Promise<boolean> {
  return (await db('bill_payments').where({ id }).whereNull('order_id').whereNull('released_at').update({ order_id: orderId })) === 1;
}

/** Releases a payment with a voucher that made no order (the voucher was refused): the bill is payable again. */
export async function releaseVoucherReservation(db: Database, id: string): Promise<boolean> {
  return (await db('bill_payments').where({ id }).whereNull('order_id').whereNull('released_at').update({ released_at: db.fn.now(), notice_status: 'not_due' })) === 1;
}

/** When the payment is next looked at, so the sweeper knows it is being looked after. */
export async function scheduleBillPaymentCheck(db: Database, id: string, at: Date): Promise<void> {
  await db('bill_payments').where({ id }).update({ next_check_at: at });
}

/** Moves the notice on from `from`; false when another worker (or the biller's answer) moved it first. */
export async function moveNotice(db: Database, id: string, from: NoticeStatus, to: NoticeStatus): Promise<boolean> {
  return (await db('bill_payments').where({ id, notice_status: from }).update({ notice_status: to })) === 1;
}

export interface NoticeAttempt {
  /** The biller's answer, or null when none came. */
  readonly responseStatus: number | null;
  readonly error: string | null;
  /** The biller took the notice (a 2xx). */
  readonly delivered: boolean;
}

/** Records one forwarding attempt while the notice is being forwarded; false when it was settled meanwhile. */
export async function recordNoticeAttempt(db: Database, id: string, attempt: NoticeAttempt, nextCheckAt: Date): Promise<boolean> {
  const updated = await db('bill_payments')
    .where({ id, notice_status: 'forwarding' })
    .update({
      notice_status: attempt.delivered ? 'delivered' : 'forwarding',
      notice_attempts: db.raw('notice_attempts + 1'),
      notice_last_status: attempt.responseStatus,
      notice_last_error: attempt.error,
      next_check_at: nextCheckAt,
    });
  return updated === 1;
}

/** Records the biller's ACK or RJC once; false when the notice was answered already (or is not out yet). */
export async function recordNoticeAnswer(db: Database, id: string, answer: MarkPaidAnswer): Promise<boolean> {
  const updated = await db('bill_payments')
    .where({ id })
    .whereIn('notice_status', ['forwarding', 'delivered'])
    .update({
      notice_status: answer.status === 'ACK' ? 'acknowledged' : 'rejected',
      notice_reject_reason: answer.status === 'RJC' ? answer.rejectReason : null,
      notice_answered_at: db.fn.now(),
    });
  return updated === 1;
}

/** Payments whose order or notice nobody has looked at since they were due. */
export async function findOverdueBillPayments(db: Database, olderThan: Date, limit: number): Promise<string[]> {
  const rows = await db('bill_payments').select('id').whereIn('notice_status', ['awaiting_payment', 'forwarding']).where('next_check_at', '<', olderThan).orderBy('next_check_at').limit(limit);
  return rows.map((row) => row.id as string);
}

/** Pushes overdue payments' due time forward once their work has been queued again. */
export async function postponeBillPayments(db: Database, ids: readonly string[], until: Date): Promise<void> {
  if (ids.length > 0) await db('bill_payments').whereIn('id', ids).whereIn('notice_status', ['awaiting_payment', 'forwarding']).update({ next_check_at: until });
}
