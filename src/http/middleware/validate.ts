import type { z } from 'zod';
import { ProblemError } from '../../domain/errors.ts';
import { validationErrorFrom } from './problem.ts';

/** Parses a request part against its schema; every failing field is reported, nothing reaches a service half-checked. */
export function parseRequest<S extends z.ZodType>(schema: S, value: unknown, location: 'body' | 'query' | 'path'): z.infer<S> {
  if (location === 'body' && (value === undefined || value === null || typeof value !== 'object' || Array.isArray(value))) {
    throw new ProblemError(415, 'json_object_expected', 'JSON object expected', 'send a JSON object with Content-Type: application/json');
  }
  const result = schema.safeParse(value);
  if (!result.success) throw validationErrorFrom(result.error.issues, location);
  return result.data;
}
