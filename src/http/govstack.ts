import express, { type ErrorRequestHandler, type Request, type RequestHandler, type Response } from 'express';
import { z } from 'zod';
import { ProblemError } from '../domain/errors.ts';
import type { ServiceContext } from '../services/context.ts';
import { authenticate, requireScope } from './middleware/authenticate.ts';
import { rateLimitPerCredential } from './middleware/rate-limit.ts';

// GovStack's conventions, shared by the routers of both of its API generations: replies of
// {ResponseCode, ResponseDescription, RequestID} instead of problem+json, header and field names whose case and
// spelling vary between the specification's own files, and a 400 that names what is wrong in one sentence.

/** Lists of beneficiaries or ids are capped where one lookup of them stays a single fast query. */
export const MAX_BENEFICIARIES_PER_REQUEST = 10_000;

/** ResponseDescription is at most 200 characters. */
const MAX_DESCRIPTION_LENGTH = 200;

/** A request GovStack's schema refuses; answered as {ResponseCode "01", ResponseDescription, RequestID}. */
export class GovStackRejection extends Error {
  override name = 'GovStackRejection';
  constructor(
    readonly status: number,
    readonly description: string,
    readonly requestId: string,
  ) {
    super(description);
  }
}

export function fitDescription(text: string): string {
  return text.length <= MAX_DESCRIPTION_LENGTH ? text : `${text.slice(0, MAX_DESCRIPTION_LENGTH - 1)}…`;
}

export function sendGovStackReply(res: Response, status: number, reply: { code: '00' | '01'; description: string; requestId: string }): void {
  res.status(status).json({ ResponseCode: reply.code, ResponseDescription: fitDescription(reply.description), RequestID: reply.requestId });
}

/**
 * Bearer credential, rate limit, the benefits:write scope and a JSON body, as on /v1; attached per route so other
 * paths stay untouched. Only JSON bodies are read; any other body (a CSV batch) is left to stream to the route.
 */
export function govStackGuards(context: ServiceContext, options: { jsonLimit?: string } = {}): RequestHandler[] {
  return [
    authenticate(context.db, context.config.AUTH_CACHE_TTL_MS),
    rateLimitPerCredential(context.config.RATE_LIMIT_PER_MINUTE),
    requireScope('benefits:write'),
    // By default, room for MAX_BENEFICIARIES_PER_REQUEST beneficiaries of about a hundred bytes each.
    express.json({ limit: options.jsonLimit ?? '4mb', strict: true }),
  ];
}

/** The first of the given headers that is present (names are case-insensitive; the spellings vary between files). */
export function headerOf(req: Request, names: readonly string[]): string | undefined {
  for (const name of names) {
    const value = req.get(name);
    if (value !== undefined) return value;
  }
  return undefined;
}

export const CALLBACK_URL_HEADERS = ['X-Callback-URL', 'X-Callback_URL'] as const;
export const REGISTERING_INSTITUTION_HEADERS = ['X-Registering-Institution-ID', 'registeringInstitutionId'] as const;

/** Picks each named field whatever its case (`RequestID`, `requestID`, `requestId`), keyed by the name given. */
function withCanonicalKeys(value: unknown, names: readonly string[]): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  const byLowerCase = new Map(Object.entries(value).map(([key, field]) => [key.toLowerCase(), field] as const).reverse());
  return Object.fromEntries(names.flatMap((name) => (byLowerCase.has(name.toLowerCase()) ? [[name, byLowerCase.get(name.toLowerCase())]] : [])));
}

/** An object schema whose fields are matched case-insensitively and named as in `shape`. */
export function caseInsensitiveObject<T extends z.ZodRawShape>(shape: T) {
  return z.preprocess((value) => withCanonicalKeys(value, Object.keys(shape)), z.object(shape));
}

/** The RequestID a refusal echoes: whatever string the caller sent under any spelling, else empty. */
export function givenRequestId(...sources: unknown[]): string {
  for (const source of sources) {
    const candidate = (withCanonicalKeys(source, ['RequestID']) as { RequestID?: unknown } | undefined)?.RequestID;
    if (typeof candidate === 'string') return candidate;
  }
  return '';
}

const KIND = { string: 'a string', array: 'a list', object: 'an object' } as Record<string, string>;

/** Messages that read as the end of "<field> …". */
const govStackMessages: z.core.$ZodErrorMap = (issue) => {
  switch (issue.code) {
    case 'invalid_type':
      return issue.input === undefined ? 'is required' : `must be ${KIND[issue.expected] ?? issue.expected}`;
    case 'too_small':
      if (issue.origin === 'array') return `must list at least ${issue.minimum}`;
      if (issue.exact) return `must be exactly ${issue.minimum} characters`;
      return issue.minimum === 1 ? 'must not be empty' : `must be at least ${issue.minimum} characters`;
    case 'too_big':
      if (issue.origin === 'array') return `must list at most ${issue.maximum}`;
      return issue.exact ? `must be exactly ${issue.maximum} characters` : `must be at most ${issue.maximum} characters`;
    case 'invalid_value':
      return `must be one of ${issue.values.join(', ')}`;
    default:
      return undefined;
  }
};

function fieldName(path: readonly PropertyKey[]): string {
  return path.map((part, index) => (typeof part === 'number' ? `[${part}]` : index === 0 ? String(part) : `.${String(part)}`)).join('');
}

type Parsed<S extends z.ZodType> = { ok: true; data: z.infer<S> } | { ok: false; problems: string[] };

/** Parses one part of a request; problems read "header X-Callback-URL is required", "Beneficiaries[0].FinancialAddress must …". */
export function parsePart<S extends z.ZodType>(schema: S, value: unknown, part: 'header' | 'query' | 'body'): Parsed<S> {
  if (part === 'body' && (value === null || typeof value !== 'object' || Array.isArray(value))) {
    return { ok: false, problems: ['the body must be a JSON object sent with Content-Type: application/json'] };
  }
  const result = schema.safeParse(value, { error: govStackMessages });
  if (result.success) return { ok: true, data: result.data };
  return { ok: false, problems: result.error.issues.map((issue) => `${part === 'body' ? '' : `${part} `}${fieldName(issue.path)} ${issue.message}`.trim()) };
}

/** The parsed parts, or a 400 naming every problem found in any of them. */
export function acceptParts<T extends readonly Parsed<z.ZodType>[]>(requestId: string, ...parts: T): { [K in keyof T]: T[K] extends Parsed<infer S> ? z.infer<S> : never } {
  const problems = parts.flatMap((part) => (part.ok ? [] : part.problems));
  if (problems.length > 0) throw new GovStackRejection(400, `Bad request: ${problems.join('; ')}`, requestId);
  return parts.map((part) => (part as { data: unknown }).data) as never;
}

/**
 * Answers refusals in GovStack's shape: schema problems, unreadable JSON, a reused RequestID. Credentials,
 * scope and rate limits stay Kassa's problem+json, as on every other route.
 */
export const govStackErrors: ErrorRequestHandler = (error, req, res, next) => {
  if (error instanceof GovStackRejection) return sendGovStackReply(res, error.status, { code: '01', description: error.description, requestId: error.requestId });
  if (error instanceof ProblemError && error.code === 'idempotency_key_reused') {
    return sendGovStackReply(res, 409, { code: '01', description: 'this RequestID was already used with a different request', requestId: givenRequestId(req.body, req.query) });
  }
  const type = (error as { type?: string }).type;
  if (type === 'entity.parse.failed') return sendGovStackReply(res, 400, { code: '01', description: 'Bad request: the body is not valid JSON', requestId: '' });
  if (type === 'entity.too.large') {
    return sendGovStackReply(res, 413, { code: '01', description: `Bad request: the body is too large; send at most ${MAX_BENEFICIARIES_PER_REQUEST} beneficiaries a request`, requestId: '' });
  }
  next(error);
};
