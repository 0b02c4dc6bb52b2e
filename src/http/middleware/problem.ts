import type { ErrorRequestHandler, RequestHandler, Response } from 'express';
import type { Logger } from 'pino';
import { ProblemError, ValidationError } from '../../domain/errors.ts';

export function sendProblem(res: Response, problem: ProblemError): void {
  res
    .status(problem.status)
    .type('application/problem+json')
    .json({
      type: `https://kassa.dev/problems/${problem.code.replaceAll('_', '-')}`,
      title: problem.title,
      status: problem.status,
      code: problem.code,
      ...(problem.detail ? { detail: problem.detail } : {}),
      instance: res.req.originalUrl,
      request_id: res.locals.requestId,
      ...problem.extra,
    });
}

export const routeNotFound: RequestHandler = (req, res) => {
  sendProblem(res, new ProblemError(404, 'route_not_found', 'Not found', `${req.method} ${req.path} is not a Kassa endpoint`));
};

/** Body-parser failures carry a `type`; everything else that is not a ProblemError is our fault and is logged. */
export function problemHandler(logger: Logger): ErrorRequestHandler {
  return (error, req, res, _next) => {
    if (error instanceof ProblemError) return sendProblem(res, error);
    const type = (error as { type?: string }).type;
    if (type === 'entity.too.large') return sendProblem(res, new ProblemError(413, 'payload_too_large', 'Payload too large', 'request bodies are limited to 1 MB'));
    if (type === 'entity.parse.failed') return sendProblem(res, new ProblemError(400, 'malformed_json', 'Malformed JSON', 'the request body is not valid JSON'));
    if (type === 'encoding.unsupported' || type === 'charset.unsupported') {
      return sendProblem(res, new ProblemError(415, 'unsupported_encoding', 'Unsupported encoding', (error as Error).message));
    }
    logger.error({ err: error, requestId: res.locals.requestId, path: req.path }, 'request failed');
    sendProblem(res, new ProblemError(500, 'internal_error', 'Internal error', 'Kassa could not complete the request; it has been logged'));
  };
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
