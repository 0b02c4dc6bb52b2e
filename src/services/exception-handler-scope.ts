import type { Caller } from '../domain/caller.ts';
import { ProblemError } from '../domain/errors.ts';
import { grants } from '../domain/scopes.ts';

/**
 * Whose exceptions the caller may assign and resolve: every organisation's (undefined) for the treasury, its own
 * organisation's for that organisation's administrator. Another organisation's exception is then not found.
 */
export function exceptionsHandledBy(caller: Caller): string | undefined {
  if (grants(caller.scopes, 'treasury:write')) return undefined;
  if (grants(caller.scopes, 'admin')) return caller.organisationId;
  throw new ProblemError(403, 'insufficient_scope', 'Forbidden', "handling exceptions needs the treasury:write scope, or admin for your own organisation's");
}
