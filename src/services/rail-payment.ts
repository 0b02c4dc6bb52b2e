import type { RailPayment } from '../../adapters/contract.ts';
import type { Order } from '../domain/order.ts';

export const railCallbackPath = (rail: string) => `/v1/rails/${rail}/callbacks`;

export function railPaymentFor(order: Order, publicUrl: string): RailPayment {
  return {
    railKey: order.railKey,
    kind: order.kind,
    amount: order.amount,
    payer: order.payer,
    payee: order.payee,
    reference: order.reference,
    callbackUrl: `${publicUrl}${railCallbackPath(order.rail)}`,
  };
}
