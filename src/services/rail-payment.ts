import type { RailPayment } from '../../adapters/contract.ts';
import type { Order } from '../domain/order.ts';

export function railPaymentFor(order: Order): RailPayment {
  return { railKey: order.railKey, kind: order.kind, amount: order.amount, payer: order.payer, payee: order.payee, reference: order.reference };
}
