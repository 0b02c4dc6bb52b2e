import { createHash } from 'node:crypto';
import express, { type ErrorRequestHandler, type Request, type RequestHandler, type Response } from 'express';
import { z } from 'zod';
import { BILL_ID, PARTICIPANT_CODE } from '../domain/bill.ts';
import { ProblemError } from '../domain/errors.ts';
import type { ServiceContext } from '../services/context.ts';
import type { Idempotency } from '../services/idempotent-replay.ts';
import { fitDescription, GovStackRejection } from './govstack.ts';
import { authenticate } from './middleware/authenticate.ts';
import { rateLimitPerCredential } from './middleware/rate-limit.ts';

// GovStack's P2G conventions (api-v3/p2g), shared by the bill and request-to-pay routers: replies of
// {responseCode, <text>, requestID} whose text field is `reason` in the bill files and `responseDescription` in the
// request-to-pay files, used for refusals too; header spellings that vary between the files; and the
// X-CorrelationID as the request's idempotency key.

export type ReplyText = 'reason' | 'responseDescription';

export const TENANT_HEADERS = ['X-Platform-TenantId', 'Platform-TenantId'] as const;
export const PAYER_INSTITUTION_HEADERS = ['X-PayerFI-Id', 'PayerFI-Id'] as const;

/** The files give it 20 characters; GSMA-style callers send UUIDs (36), so Kassa takes up to 64, as for batches. */
export const correlationIdSchema = z.string().min(1).max(64);
export const tenantIdSchema = z.string().min(1).max(20);
export const codeSchema = z.string().regex(PARTICIPANT_CODE, 'must be 1–20 letters, digits, dots, dashes or underscores');
export const billIdSchema = z.string().regex(BILL_ID, 'must be 1–30 letters, digits, dots, dashes or underscores');

/** Bearer credential and rate limit as on /v1, and a small JSON body; each route names the scope it needs. */
export function p2gGuards(context: ServiceContext): RequestHandler[] {
  return [authenticate(context.db, context.config.AUTH_CACHE_TTL_MS), rateLimitPerCredential(context.config.RATE_LIMIT_PER_MINUTE), express.json({ limit: '64kb', strict: true })];
}

export function sendP2gReply(res: Response, status: number, text: ReplyText, reply: { code: '00' | '01'; text: string; requestId: string }): void {
  res.status(status).json({ responseCode: reply.code, [text]: fitDescription(reply.text), requestID: reply.requestId });
}

/**
 * The X-CorrelationID, in the caller's organisation, keys the request: sent again with the same headers and body
 * it answers the same; with others it is refused. The hash covers the method and path too, so a correlation id
 * reused on another call is refused as well.
 */
export function correlationIdempotency(req: Request, correlationId: string, content: unknown): Idempotency {
  const requestHash = createHash('sha256').update(`${req.method} ${req.path}\n${JSON.stringify(content)}`).digest('hex');
  return { key: `p2g:${correlationId}`, requestHash };
}

const CORRELATION_CONFLICTS: Readonly<Record<string, string>> = {
  idempotency_key_reused: 'Conflict: this X-CorrelationID was already used for another request',
  idempotency_key_in_use: 'Conflict: a request with this X-CorrelationID is still being processed; retry shortly',
};

/**
 * Runs a route's work and answers its refusals in GovStack's shape: a service's ProblemError becomes
 * {responseCode "01", <text>: "<title>: <detail>", requestID} with the same status. Credentials, scope and rate
 * limits are checked before and stay Kassa's problem+json, as on every other route.
 */
export async function refusingAsGovStack<T>(requestId: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (!(error instanceof ProblemError)) throw error;
    throw new GovStackRejection(error.status, CORRELATION_CONFLICTS[error.code] ?? `${error.title}: ${error.detail ?? error.code}`, requestId);
  }
}

/** Refusals, unreadable JSON and bodies over the limit, in the router's reply shape. */
export function p2gErrors(text: ReplyText): ErrorRequestHandler {
  return (error, _req, res, next) => {
    if (error instanceof GovStackRejection) return sendP2gReply(res, error.status, text, { code: '01', text: error.description, requestId: error.requestId });
    const type = (error as { type?: string }).type;
    if (type === 'entity.parse.failed') return sendP2gReply(res, 400, text, { code: '01', text: 'Bad request: the body is not valid JSON', requestId: '' });
    if (type === 'entity.too.large') return sendP2gReply(res, 413, text, { code: '01', text: 'Bad request: the body is larger than 64 kB', requestId: '' });
    next(error);
  };
}
