import type { NextAction, Order, OrderEvent, Party } from '../../domain/order.ts';
import type { OrderStatus } from '../../domain/order-status.ts';

export interface OrderRow {
  id: string;
  organisation_id: string;
  kind: Order['kind'];
  status: OrderStatus;
  amount_minor: string;
  currency: string;
  payer: Party;
  payee: Party;
  reference: string;
  callback_url: string | null;
  metadata: Record<string, unknown>;
  rail: string;
  rail_key: string;
  rail_reference: string | null;
  failure_code: string | null;
  failure_reason: string | null;
  next_action: NextAction | null;
  batch_id: string | null;
  created_at: Date;
  updated_at: Date;
}

export function orderFromRow(row: OrderRow): Order {
  return {
    id: row.id,
    organisationId: row.organisation_id,
    kind: row.kind,
    status: row.status,
    amount: { minor: BigInt(row.amount_minor), currency: row.currency.trim() },
    payer: row.payer,
    payee: row.payee,
    reference: row.reference,
    callbackUrl: row.callback_url,
    metadata: row.metadata,
    rail: row.rail,
    railKey: row.rail_key,
    railReference: row.rail_reference,
    failureCode: row.failure_code,
    failureReason: row.failure_reason,
    nextAction: row.next_action,
    batchId: row.batch_id,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export interface OrderEventRow {
  id: string;
  order_id: string;
  from_status: OrderStatus | null;
  to_status: OrderStatus;
  detail: Record<string, unknown>;
  created_at: Date;
}

export function eventFromRow(row: OrderEventRow): OrderEvent {
  return { id: row.id, orderId: row.order_id, fromStatus: row.from_status, toStatus: row.to_status, detail: row.detail, createdAt: row.created_at };
}
