import { formatMoney } from '../domain/money.ts';
import type { Order, OrderEvent } from '../domain/order.ts';

/** The public shape of an order, the same in API answers and webhook bodies. */
export function presentOrder(order: Order, events?: readonly OrderEvent[]) {
  return {
    id: order.id,
    kind: order.kind,
    status: order.status,
    amount: formatMoney(order.amount),
    amount_minor: order.amount.minor.toString(),
    currency: order.amount.currency,
    payer: order.payer,
    payee: order.payee,
    reference: order.reference,
    callback_url: order.callbackUrl,
    metadata: order.metadata,
    rail: order.rail,
    rail_reference: order.railReference,
    failure: order.failureCode ? { code: order.failureCode, reason: order.failureReason } : null,
    next_action: order.status === 'requires_action' ? order.nextAction : null,
    created_at: order.createdAt.toISOString(),
    updated_at: order.updatedAt.toISOString(),
    ...(events ? { events: events.map((event) => ({ from: event.fromStatus, to: event.toStatus, at: event.createdAt.toISOString(), detail: event.detail })) } : {}),
  };
}

export type PresentedOrder = ReturnType<typeof presentOrder>;
