import { UNPAID_ORDER_STATUSES, type TransferRequestDecision } from '../../domain/bill.ts';
import type { OrderStatus } from '../../domain/order-status.ts';
import type { Database } from '../knex.ts';

/** A biller's request to pay a bill, sent to the payer institution it names (GovStack's RTP). */
export interface TransferRequest {
  readonly id: string;
  readonly billerId: string;
  /** The biller's rtpId: the transferRequestId of the status path. */
  readonly rtpId: string;
  /** The biller's requestId, sent to the payer as TxnID; a payment names it as its billInquiryRequestId. */
  readonly requestId: string;
  readonly billId: string;
  readonly currency: string;
  readonly amountMinor: bigint;
  readonly payerInstitutionId: string;
  /** The customer's account or alias at the payer institution, as the biller gave it. */
  readonly payerAddress: string | null;
  readonly tenantId: string;
  /** Where the payer's answer is pushed to the biller (GovStack's /rtpUpdate). */
  readonly callbackUrl: string;
  readonly decision: TransferRequestDecision;
  readonly rejectReason: string | null;
  readonly expiresAt: Date;
  readonly decidedAt: Date | null;
  readonly createdAt: Date;
}

/** The request with the latest payment made against it, if any (its order status is null while a voucher pays it). */
export interface TransferRequestView extends TransferRequest {
  readonly payment: { readonly orderStatus: OrderStatus | null; readonly paymentReference: string; readonly updatedAt: Date } | null;
}

interface TransferRequestRow {
  id: string;
  biller_id: string;
  rtp_id: string;
  request_id: string;
  bill_id: string;
  currency: string;
  amount_minor: string;
  payer_institution_id: string;
  payer_address: string | null;
  tenant_id: string;
  callback_url: string;
  decision: TransferRequestDecision;
  reject_reason: string | null;
  expires_at: Date;
  decided_at: Date | null;
  created_at: Date;
  order_status: OrderStatus | null;
  payment_reference: string | null;
  order_updated_at: Date | null;
}

function viewFromRow(row: TransferRequestRow): TransferRequestView {
  return {
    id: row.id, billerId: row.biller_id, rtpId: row.rtp_id, requestId: row.request_id, billId: row.bill_id, currency: row.currency.trim(),
    amountMinor: BigInt(row.amount_minor), payerInstitutionId: row.payer_institution_id, payerAddress: row.payer_address, tenantId: row.tenant_id,
    callbackUrl: row.callback_url, decision: row.decision, rejectReason: row.reject_reason, expiresAt: row.expires_at, decidedAt: row.decided_at,
    createdAt: row.created_at,
    payment: row.payment_reference === null ? null : { orderStatus: row.order_status, paymentReference: row.payment_reference, updatedAt: row.order_updated_at! },
  };
}

const SELECT_VIEW = `
  SELECT t.*, latest.status AS order_status, latest.payment_reference, latest.updated_at AS order_updated_at
  FROM transfer_requests t
  LEFT JOIN LATERAL (
    SELECT o.status, COALESCE(o.updated_at, p.created_at) AS updated_at, p.payment_reference FROM bill_payments p LEFT JOIN orders o ON o.id = p.order_id
    WHERE p.transfer_request_id = t.id AND (p.order_id IS NOT NULL OR p.released_at IS NULL) ORDER BY p.created_at DESC LIMIT 1
  ) latest ON true`;

/** Inserts the request; answers false when the biller used its rtpId or requestId before. */
export async function insertTransferRequest(db: Database, request: Omit<TransferRequest, 'decision' | 'rejectReason' | 'decidedAt' | 'createdAt'>): Promise<boolean> {
  const inserted = await db('transfer_requests')
    .insert({
      id: request.id, biller_id: request.billerId, rtp_id: request.rtpId, request_id: request.requestId, bill_id: request.billId,
      currency: request.currency, amount_minor: request.amountMinor.toString(), payer_institution_id: request.payerInstitutionId,
      payer_address: request.payerAddress, tenant_id: request.tenantId, callback_url: request.callbackUrl, expires_at: request.expiresAt,
    })
    .onConflict()
    .ignore()
    .returning('id');
  return inserted.length === 1;
}

export async function findTransferRequest(db: Database, billerId: string, rtpId: string): Promise<TransferRequestView | undefined> {
  const { rows } = (await db.raw(`${SELECT_VIEW} WHERE t.biller_id = ? AND t.rtp_id = ?`, [billerId, rtpId])) as { rows: TransferRequestRow[] };
  return rows[0] && viewFromRow(rows[0]);
}

/** The request a payer institution was sent under this requestId (its TxnID). */
export async function findTransferRequestForPayer(db: Database, billerId: string, requestId: string, payerInstitutionId: string): Promise<TransferRequestView | undefined> {
  const { rows } = (await db.raw(`${SELECT_VIEW} WHERE t.biller_id = ? AND t.request_id = ? AND t.payer_institution_id = ?`, [billerId, requestId, payerInstitutionId])) as { rows: TransferRequestRow[] };
  return rows[0] && viewFromRow(rows[0]);
}

/** The payer institution's answer, taken while the request is pending and not expired; false otherwise. */
export async function decideTransferRequest(db: Database, id: string, decision: 'accepted' | 'rejected', rejectReason: string | null): Promise<boolean> {
  const updated = await db('transfer_requests')
    .where({ id, decision: 'pending' })
    .where('expires_at', '>', db.fn.now())
    .update({ decision, reject_reason: rejectReason, decided_at: db.fn.now() });
  return updated === 1;
}

/** Cancels a request still open (not decided against, not expired) with no payment under way or made; false otherwise. */
export async function cancelTransferRequest(db: Database, id: string): Promise<boolean> {
  const { rowCount } = (await db.raw(
    `UPDATE transfer_requests t SET decision = 'cancelled', decided_at = now()
     WHERE t.id = ? AND t.decision IN ('pending', 'accepted') AND t.expires_at > now()
       AND NOT EXISTS (
         SELECT 1 FROM bill_payments p LEFT JOIN orders o ON o.id = p.order_id
         WHERE p.transfer_request_id = t.id AND p.released_at IS NULL AND (o.status IS NULL OR o.status <> ALL(?::text[]))
       )`,
    [id, [...UNPAID_ORDER_STATUSES]],
  )) as { rowCount: number };
  return rowCount === 1;
}
