export const ORDER_STATUSES = ['received', 'queued', 'submitted', 'requires_action', 'unknown', 'completed', 'failed', 'cancelled', 'returned'] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

export const FINAL_STATUSES: readonly OrderStatus[] = ['completed', 'failed', 'cancelled', 'returned'];

/** Final statuses in which the payee did not get the money, or gave it back. */
export const UNPAID_STATUSES: readonly OrderStatus[] = ['failed', 'cancelled', 'returned'];

/** The one state machine every order follows; a status change not listed here cannot be written. */
const TRANSITIONS: Readonly<Record<OrderStatus, readonly OrderStatus[]>> = {
  received: ['queued', 'submitted', 'cancelled'],
  queued: ['submitted', 'cancelled'],
  submitted: ['requires_action', 'completed', 'failed', 'unknown'],
  requires_action: ['completed', 'failed', 'unknown'],
  unknown: ['completed', 'failed'],
  // A completed payment is final for the client, until the payee's bank sends the money back (a statement says so).
  completed: ['returned'],
  failed: [],
  cancelled: [],
  returned: [],
};

export function canTransition(from: OrderStatus, to: OrderStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

/** The statuses an order may be in for a move to `to` to be legal: the guard of every status UPDATE. */
export function statusesLeadingTo(to: OrderStatus): OrderStatus[] {
  return ORDER_STATUSES.filter((from) => canTransition(from, to));
}

export function isFinal(status: OrderStatus): boolean {
  return FINAL_STATUSES.includes(status);
}

export const CANCELLABLE_STATUSES = statusesLeadingTo('cancelled');

/** Statuses in which a rail holds the order and Kassa waits for its word (callback or inquiry). */
export const AWAITING_RAIL_STATUSES: readonly OrderStatus[] = ['submitted', 'requires_action', 'unknown'];
