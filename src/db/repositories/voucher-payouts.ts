import type { Party } from '../../domain/order.ts';
import type { VoucherPayoutOrder } from '../../domain/voucher.ts';
import type { OrderStatus } from '../../domain/order-status.ts';
import type { Database } from '../knex.ts';
import { auditColumns, type AuditEntry } from './audit-log.ts';

/** A redeemed voucher's payout as paying it again needs it, read under a lock on the voucher. */
export interface VoucherPayout {
  readonly serialNumber: bigint;
  readonly organisationId: string;
  readonly status: string;
  readonly amountMinor: bigint;
  readonly currency: string;
  readonly programId: string;
  readonly groupCode: string;
  readonly fundingAccount: Party;
  readonly redemptionRequestId: string | null;
  readonly merchant: { readonly id: string; readonly code: string; readonly account: Party } | null;
  readonly payout: { readonly orderId: string; readonly status: OrderStatus } | null;
}

/** The voucher of the organisation with this serial number and its payout, locked until the transaction ends. */
export async function lockVoucherPayout(trx: Database, organisationId: string, serialNumber: bigint): Promise<VoucherPayout | undefined> {
  const { rows } = (await trx.raw(
    `SELECT v.serial_number, v.organisation_id, v.status, v.amount_minor, v.currency, g.program_id, g.code AS group_code, p.funding_account,
            v.redemption_request_id, m.id AS merchant_id, m.code AS merchant_code, m.account AS merchant_account, o.id AS order_id, o.status AS order_status
     FROM vouchers v JOIN voucher_groups g ON g.id = v.group_id JOIN programs p ON p.id = g.program_id
       LEFT JOIN merchants m ON m.id = v.redeemed_by LEFT JOIN orders o ON o.id = v.payout_order_id
     WHERE v.serial_number = ? AND v.organisation_id = ?
     FOR UPDATE OF v`,
    [serialNumber.toString(), organisationId],
  )) as {
    rows: {
      serial_number: string; organisation_id: string; status: string; amount_minor: string; currency: string; program_id: string; group_code: string;
      funding_account: Party; redemption_request_id: string | null; merchant_id: string | null; merchant_code: string | null; merchant_account: Party | null;
      order_id: string | null; order_status: OrderStatus | null;
    }[];
  };
  const [row] = rows;
  if (!row) return undefined;
  return {
    serialNumber: BigInt(row.serial_number), organisationId: row.organisation_id, status: row.status, amountMinor: BigInt(row.amount_minor),
    currency: row.currency.trim(), programId: row.program_id, groupCode: row.group_code, fundingAccount: row.funding_account,
    redemptionRequestId: row.redemption_request_id,
    merchant: row.merchant_id && row.merchant_code && row.merchant_account ? { id: row.merchant_id, code: row.merchant_code, account: row.merchant_account } : null,
    payout: row.order_id && row.order_status ? { orderId: row.order_id, status: row.order_status } : null,
  };
}

/** A new payout of a redeemed voucher whose earlier payout was not paid. */
export interface Repayment {
  readonly serialNumber: bigint;
  readonly organisationId: string;
  readonly programId: string;
  readonly previousOrderId: string;
  /** The payout order, and what it pays: the voucher's amount. */
  readonly order: VoucherPayoutOrder & { readonly amountMinor: bigint; readonly currency: string };
  /** Who closes the exception the unpaid payout raised, and why. */
  readonly resolution: { readonly reason: string; readonly by: string };
  readonly audit: AuditEntry;
}

/**
 * Writes the new payout in one statement: the order with its first event and outbox row (the workers send it like any
 * other), the voucher pointing at it with an event naming both payouts, the amount moved from blocked to disbursed
 * again on the program (the unpaid payout had blocked it again), the exception of the unpaid payout resolved, and
 * the audit entry. The caller holds the voucher's lock, so the voucher cannot be paid again twice.
 */
export async function repayVoucher(trx: Database, repayment: Repayment): Promise<void> {
  const audit = auditColumns(repayment.audit);
  await trx.raw(
    `WITH payout AS (
       INSERT INTO orders (id, organisation_id, kind, status, amount_minor, currency, payer, payee, reference, metadata, rail, rail_key, program_id)
       VALUES (:orderId, :organisationId, 'benefit', 'received', :amountMinor, :currency, :payer::jsonb, :payee::jsonb, :reference, :metadata::jsonb, :rail,
               replace(:orderId::text, '-', ''), :programId)
       RETURNING id, rail
     ), payout_event AS (
       INSERT INTO order_events (order_id, from_status, to_status, detail)
       SELECT id, NULL, 'received', jsonb_build_object('voucher_serial_number', :serialNumber::text, 'pays_again', :previousOrderId::text) FROM payout
     ), work AS (
       INSERT INTO outbox (order_id, rail) SELECT id, rail FROM payout
     ), voucher AS (
       UPDATE vouchers SET payout_order_id = :orderId, updated_at = now() WHERE serial_number = :serialNumber
     ), voucher_event AS (
       INSERT INTO voucher_events (serial_number, from_status, to_status, detail)
       VALUES (:serialNumber, 'redeemed', 'redeemed', jsonb_build_object('payout_order_id', :orderId::text, 'pays_again', :previousOrderId::text))
     ), budget AS (
       UPDATE programs SET reserved_minor = reserved_minor - :amountMinor, disbursed_minor = disbursed_minor + :amountMinor, updated_at = now()
       WHERE id = :programId
     ), owed AS (
       UPDATE reconciliation_exceptions SET status = 'resolved', resolution = :resolution, resolved_by = :resolvedBy, resolved_at = now(), updated_at = now()
       WHERE dedupe_key = 'voucher_payout_failed:' || :previousOrderId AND status <> 'resolved'
     )
     INSERT INTO audit_log (organisation_id, client_id, actor, action, target, source_ip, request_id, detail)
     VALUES (:organisationId, :clientId, :actor, :action, :target, :sourceIp, :requestId, :auditDetail::jsonb)`,
    {
      orderId: repayment.order.orderId, organisationId: repayment.organisationId, amountMinor: repayment.order.amountMinor.toString(), currency: repayment.order.currency,
      payer: JSON.stringify(repayment.order.payer), payee: JSON.stringify(repayment.order.payee), reference: repayment.order.reference,
      metadata: JSON.stringify(repayment.order.metadata), rail: repayment.order.rail, programId: repayment.programId, serialNumber: repayment.serialNumber.toString(),
      previousOrderId: repayment.previousOrderId, resolution: repayment.resolution.reason, resolvedBy: repayment.resolution.by,
      clientId: audit.client_id, actor: audit.actor, action: audit.action, target: audit.target, sourceIp: audit.source_ip, requestId: audit.request_id,
      auditDetail: audit.detail,
    },
  );
}
