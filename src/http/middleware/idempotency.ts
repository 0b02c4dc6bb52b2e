import { createHash } from 'node:crypto';
import type { Request, Response } from 'express';
import { ValidationError } from '../../domain/errors.ts';
import { replayable, type Idempotency } from '../../services/idempotent-replay.ts';
import { claimIdempotencyKey, completeIdempotencyKey, findIdempotentResponse, releaseIdempotencyKey } from '../../db/repositories/idempotency-keys.ts';
import type { Database } from '../../db/knex.ts';
import { callerOf } from './authenticate.ts';

const KEY = /^[\x21-\x7e]{1,255}$/;

/** Every POST names its Idempotency-Key; the request hash covers the method, the path and the body. */
export function idempotencyOf(req: Request): Idempotency {
  return idempotencyFrom(req.headers['idempotency-key'], `${req.method} ${req.baseUrl}${req.path}`, req.body);
}

/** `route` is the method and path as the hash has always spelt them: `POST /v1/orders/` for a new order. */
export function idempotencyFrom(header: string | string[] | undefined, route: string, body: unknown): Idempotency {
  if (typeof header !== 'string' || !KEY.test(header)) {
    throw new ValidationError([{ field: 'header.Idempotency-Key', reason: 'required on every POST: 1–255 visible ASCII characters, unique per request' }]);
  }
  const requestHash = createHash('sha256').update(`${route}\n${JSON.stringify(body ?? null)}`).digest('hex');
  return { key: header, requestHash };
}

/** For POSTs whose effect is not written in the same statement as its key: replay, refuse, or run and remember. */
export interface IdempotentResult {
  readonly status: number;
  readonly body: unknown;
  /** What a replay answers instead of `body`, for answers that carry a secret shown only once. */
  readonly replayBody?: unknown;
}

export async function idempotent(db: Database, req: Request, res: Response, handler: () => Promise<IdempotentResult>): Promise<void> {
  const idempotency = idempotencyOf(req);
  const organisationId = callerOf(res).organisationId;
  if (!(await claimIdempotencyKey(db, organisationId, idempotency.key, idempotency.requestHash))) {
    const stored = await findIdempotentResponse(db, organisationId, idempotency.key);
    const replay = replayable(stored, idempotency);
    res.setHeader('Idempotent-Replayed', 'true');
    res.status(replay.status).json(replay.body);
    return;
  }
  let result: IdempotentResult;
  try {
    result = await handler();
  } catch (error) {
    await releaseIdempotencyKey(db, organisationId, idempotency.key);
    throw error;
  }
  await completeIdempotencyKey(db, organisationId, idempotency.key, { status: result.status, body: result.replayBody ?? result.body });
  res.status(result.status).json(result.body);
}
