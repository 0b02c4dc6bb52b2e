/** A failure the caller can act on, rendered as RFC 9457 problem+json with a stable `code`. */
export class ProblemError extends Error {
  override name = 'ProblemError';
  constructor(
    readonly status: number,
    readonly code: string,
    readonly title: string,
    readonly detail?: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(detail ?? title);
  }
}

export interface FieldError {
  readonly field: string;
  readonly reason: string;
}

export class ValidationError extends ProblemError {
  override name = 'ValidationError';
  constructor(readonly errors: readonly FieldError[]) {
    super(422, 'validation_failed', 'The request is not valid', errors.map((e) => `${e.field}: ${e.reason}`).join('; '), { errors });
  }
}

export const notFound = (what: string) => new ProblemError(404, 'not_found', 'Not found', `${what} does not exist`);
export const conflict = (code: string, detail: string) => new ProblemError(409, code, 'Conflict', detail);
