import type { RequestHandler } from 'express';
import type { IncomingMessage } from 'node:http';
import { hashApiKey } from '../../domain/api-key.ts';
import type { Caller } from '../../domain/caller.ts';
import { ProblemError } from '../../domain/errors.ts';
import { grants, type Scope } from '../../domain/scopes.ts';
import { findActiveClientByKeyHash } from '../../db/repositories/api-clients.ts';
import type { Database } from '../../db/knex.ts';
import { CallerCache } from './caller-cache.ts';
import type { LocalsResponse, NextStep, PlainHandler } from './plain-handler.ts';

const unauthorised = (detail: string) => new ProblemError(401, 'unauthorised', 'Unauthorised', detail);

/**
 * Resolves the bearer key to its credential. Lookups are cached for AUTH_CACHE_TTL_MS to keep a database
 * round trip off every request; a revoked key therefore stops working within that time.
 */
export function authenticate(db: Database, cacheTtlMs: number): PlainHandler {
  const callers = new CallerCache(async (keyHash) => {
    const client = await findActiveClientByKeyHash(db, keyHash);
    return client && { clientId: client.id, clientName: client.name, organisationId: client.organisationId, scopes: client.scopes };
  }, cacheTtlMs);
  return async (req: IncomingMessage, res: LocalsResponse, next: NextStep) => {
    const header = req.headers.authorization;
    const match = header ? /^Bearer\s+(\S+)$/i.exec(header) : null;
    if (!match) return next(unauthorised('send Authorization: Bearer <api key>'));
    const caller = await callers.get(hashApiKey(match[1]!));
    if (!caller) return next(unauthorised('the API key is unknown or revoked'));
    res.locals.caller = caller;
    next();
  };
}

export function callerOf(res: Pick<LocalsResponse, 'locals'>): Caller {
  return res.locals.caller as Caller;
}

export function requireScope(scope: Scope): RequestHandler {
  return (_req, res, next) => {
    if (grants(callerOf(res).scopes, scope)) return next();
    next(new ProblemError(403, 'insufficient_scope', 'Forbidden', `this endpoint needs the ${scope} scope`));
  };
}
