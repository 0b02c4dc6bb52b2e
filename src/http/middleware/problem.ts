import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { ProblemError, ValidationError } from '../../domain/errors.ts';
import type { LocalsResponse } from './plain-handler.ts';

/** Writes the RFC 9457 document for `problem` as the whole answer; `instance` is the path the client asked for. */
function writeProblem(res: ServerResponse, problem: ProblemError, instance: string, requestId: unknown): void {
  const document = JSON.stringify({
    type: `https://kassa.dev/problems/${problem.code.replaceAll('_', '-')}`,
    title: problem.title,
    status: problem.status,
    code: problem.code,
    ...(problem.detail ? { detail: problem.detail } : {}),
    instance,
    request_id: requestId,
    ...problem.extra,
  });
  res.statusCode = problem.status;
  res.setHeader('Content-Type', 'application/problem+json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(document));
  res.end(document);
}

/** Express keeps the path asked for in `originalUrl` once a router has trimmed `url`; plain Node requests keep `url`. */
export function sendProblem(res: LocalsResponse, problem: ProblemError): void {
  const req = res.req as IncomingMessage & { originalUrl?: string };
  writeProblem(res, problem, req.originalUrl ?? req.url ?? '', res.locals.requestId);
}

export const routeNotFound: RequestHandler = (req, res) => {
  sendProblem(res, new ProblemError(404, 'route_not_found', 'Not found', `${req.method} ${req.path} is not a Kassa endpoint`));
};

/**
 * The problem to answer for an error a request ran into. Body-parser failures carry a `type`; everything else
 * that is not a ProblemError is our fault and is logged.
 */
export function problemFor(error: unknown, logger: Logger, request: { requestId: unknown; path: string }): ProblemError {
  if (error instanceof ProblemError) return error;
  const type = (error as { type?: string }).type;
  if (type === 'entity.too.large') return new ProblemError(413, 'payload_too_large', 'Payload too large', 'request bodies are limited to 1 MB');
  if (type === 'entity.parse.failed') return new ProblemError(400, 'malformed_json', 'Malformed JSON', 'the request body is not valid JSON');
  if (type === 'encoding.unsupported' || type === 'charset.unsupported') {
    return new ProblemError(415, 'unsupported_encoding', 'Unsupported encoding', (error as Error).message);
  }
  logger.error({ err: error, requestId: request.requestId, path: request.path }, 'request failed');
  return new ProblemError(500, 'internal_error', 'Internal error', 'Kassa could not complete the request; it has been logged');
}

export function problemHandler(logger: Logger): ErrorRequestHandler {
  return (error, req, res, _next) => sendProblem(res, problemFor(error, logger, { requestId: res.locals.requestId, path: req.path }));
}

interface Issue {
  readonly path: PropertyKey[];
  readonly message: string;
  readonly code?: string;
  readonly keys?: readonly string[];
}

/** One entry per failing field; an unknown field is named itself rather than blamed on its parent. */
export function validationErrorFrom(issues: readonly Issue[], location: 'body' | 'query' | 'path'): ValidationError {
  const field = (path: readonly PropertyKey[]) => [location, ...path.map(String)].join('.');
  return new ValidationError(
    issues.flatMap((issue) =>
      issue.code === 'unrecognized_keys' && issue.keys
        ? issue.keys.map((key) => ({ field: field([...issue.path, key]), reason: 'is not a known field' }))
        : [{ field: field(issue.path), reason: issue.message }],
    ),
  );
}
