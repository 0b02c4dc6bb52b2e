import { NoRailRoute } from '../../adapters/registry.ts';
import { ProblemError, ValidationError } from '../domain/errors.ts';
import type { Money } from '../domain/money.ts';
import type { Order, OrderKind, Party } from '../domain/order.ts';
import { newOrderId, scopeToWrite } from '../domain/order.ts';
import { grants } from '../domain/scopes.ts';
import type { Caller, RequestOrigin } from '../domain/caller.ts';
import { findIdempotentResponse } from '../db/repositories/idempotency-keys.ts';
import type { ServiceContext } from './context.ts';
import { replayable, type Idempotency } from './idempotent-replay.ts';
import { presentOrder, type PresentedOrder } from './present-order.ts';

export interface OrderRequest {
  readonly kind: OrderKind;
  readonly amount: Money;
  readonly payer: Party;
  readonly payee: Party;
  readonly reference: string;
  readonly callbackUrl: string | null;
  readonly metadata: Record<string, unknown>;
}

export interface SubmittedOrder {
  readonly status: number;
  readonly body: unknown;
  readonly replayed: boolean;
}

/** The order as it is first stored, routed to its rail, and how the API presents it then. */
export function prepareOrder(context: Pick<ServiceContext, 'rails'>, organisationId: string, request: OrderRequest): { order: Order; body: PresentedOrder } {
  const rail = chooseRail(context, request);
  const id = newOrderId();
  const now = new Date();
  const order: Order = {
    id,
    organisationId,
    kind: request.kind,
    status: 'received',
    amount: request.amount,
    payer: request.payer,
    payee: request.payee,
    reference: request.reference,
    callbackUrl: request.callbackUrl,
    metadata: request.metadata,
    rail,
    railKey: id.replaceAll('-', ''),
    railReference: null,
    failureCode: null,
    failureReason: null,
    nextAction: null,
    batchId: null,
    createdAt: now,
    updatedAt: now,
  };
  return { order, body: presentOrder(order, [{ id: '0', orderId: id, fromStatus: null, toStatus: 'received', detail: {}, createdAt: now }]) };
}

/**
 * Accepts an order and answers at once: the order, its first event and the work for the workers are committed
 * together, and the rail is never called from here.
 */
export async function submitOrder(context: Pick<ServiceContext, 'db' | 'rails' | 'orderWrites'>, caller: Caller, origin: RequestOrigin, request: OrderRequest, idempotency: Idempotency): Promise<SubmittedOrder> {
  if (!grants(caller.scopes, scopeToWrite(request.kind))) {
    throw new ProblemError(403, 'insufficient_scope', 'Forbidden', `a ${request.kind} order needs the ${scopeToWrite(request.kind)} scope`);
  }
  const { order, body } = prepareOrder(context, caller.organisationId, request);
  const written = await context.orderWrites.submit({
    order,
    idempotencyKey: idempotency.key,
    requestHash: idempotency.requestHash,
    responseBody: body,
    audit: {
      organisationId: caller.organisationId,
      clientId: caller.clientId,
      actor: caller.clientName,
      action: 'order.create',
      target: order.id,
      sourceIp: origin.sourceIp,
      requestId: origin.requestId,
      detail: { kind: request.kind, currency: request.amount.currency },
    },
  });
  if (written) return { status: 201, body, replayed: false };
  return replay(context, caller, idempotency);
}

async function replay(context: Pick<ServiceContext, 'db'>, caller: Caller, idempotency: Idempotency): Promise<SubmittedOrder> {
  const stored = await findIdempotentResponse(context.db, caller.organisationId, idempotency.key);
  return { ...replayable(stored, idempotency), replayed: true };
}

/** Routing happens before anything is stored: an order no rail can carry is a validation error. */
function chooseRail(context: Pick<ServiceContext, 'rails'>, request: OrderRequest): string {
  try {
    return context.rails.route({ kind: request.kind, payer: request.payer, payee: request.payee, currency: request.amount.currency }).id;
  } catch (error) {
    if (!(error instanceof NoRailRoute)) throw error;
    throw new ValidationError([{ field: request.kind === 'benefit' ? 'body.payee' : 'body.payer', reason: error.message }]);
  }
}
