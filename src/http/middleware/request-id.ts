import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { LocalsResponse, NextStep } from './plain-handler.ts';

const ACCEPTABLE = /^[A-Za-z0-9._:-]{1,128}$/;

/** Keeps the caller's X-Request-Id when it is sane, otherwise makes one, and echoes it on every answer. */
export function requestId(req: IncomingMessage, res: LocalsResponse, next: NextStep): void {
  const given = req.headers['x-request-id'];
  const id = typeof given === 'string' && ACCEPTABLE.test(given) ? given : randomUUID();
  res.locals.requestId = id;
  res.setHeader('X-Request-Id', id);
  next();
}
