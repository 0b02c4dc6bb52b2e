import type { IncomingMessage, ServerResponse } from 'node:http';
import proxyAddr from 'proxy-addr';
import { parseMoney, type Money } from '../domain/money.ts';
import type { ServiceContext } from '../services/context.ts';
import { submitOrder } from '../services/submit-order.ts';
import { callerOf } from './middleware/authenticate.ts';
import { idempotencyFrom } from './middleware/idempotency.ts';
import { runSteps, type LocalsResponse, type PlainHandler } from './middleware/plain-handler.ts';
import { problemFor, sendProblem } from './middleware/problem.ts';
import { parseRequest } from './middleware/validate.ts';
import { createOrderSchema } from './schemas.ts';

/** Who may stand between a client and Kassa and say, in X-Forwarded-For, whom they forward for. */
export const TRUSTED_PROXIES = 'loopback';

// Where express would route it: `/v1` and `/orders` mounted, the path matched without case or a trailing slash.
const ORDERS_PATH = /^\/v1\/orders\/?$/i;
// The path as the request hash has always named it, so a key sent before this route existed still replays.
const HASHED_ROUTE = 'POST /v1/orders/';

/** Answers the request when it is POST /v1/orders, and says whether it did. */
export type OrderIntake = (req: IncomingMessage, res: ServerResponse) => boolean;

/**
 * POST /v1/orders, the call that carries nearly all of the API's traffic, served on Node's own request and
 * response. Express's router walks dozens of layers and re-prototypes both objects on every request, which
 * cost this call about half of its CPU. The steps before the handler are the v1 router's own instances (one
 * auth cache, one rate-limit counter), and its answers, headers and problems included, are express's.
 */
export function createOrderIntake(context: ServiceContext, steps: readonly PlainHandler[]): OrderIntake {
  const trusted = proxyAddr.compile(TRUSTED_PROXIES);
  return (req, plainRes) => {
    if (req.method !== 'POST' || !ORDERS_PATH.test(pathOf(req))) return false;
    const res: LocalsResponse = Object.assign(plainRes, { locals: {} });
    const fail = (error: unknown) => sendProblem(res, problemFor(error, context.logger, { requestId: res.locals.requestId, path: pathOf(req) }));
    runSteps(steps, req, res, (error) => {
      if (error !== undefined) return fail(error);
      createOrder(context, req, res, proxyAddr(req, trusted)).catch(fail);
    });
    return true;
  };
}

async function createOrder(context: ServiceContext, req: IncomingMessage & { body?: unknown }, res: LocalsResponse, sourceIp: string): Promise<void> {
  const idempotency = idempotencyFrom(req.headers['idempotency-key'], HASHED_ROUTE, req.body);
  const body = parseRequest(createOrderSchema, req.body, 'body');
  const amount = (parseMoney(body.amount, body.currency) as { money: Money }).money;
  const result = await submitOrder(context, callerOf(res), { sourceIp, requestId: res.locals.requestId as string }, {
    kind: body.kind,
    amount,
    payer: body.payer,
    payee: body.payee,
    reference: body.reference,
    callbackUrl: body.callback_url ?? null,
    metadata: body.metadata ?? {},
  }, idempotency);
  if (result.replayed) res.setHeader('Idempotent-Replayed', 'true');
  const json = JSON.stringify(result.body);
  res.statusCode = result.status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(json));
  res.end(json);
}

function pathOf(req: IncomingMessage): string {
  const url = req.url ?? '';
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}
