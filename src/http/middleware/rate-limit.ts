import { rateLimit } from 'express-rate-limit';
import { ProblemError } from '../../domain/errors.ts';
import { callerOf } from './authenticate.ts';
import type { PlainHandler } from './plain-handler.ts';
import { sendProblem } from './problem.ts';

/**
 * Per-credential limit over a one-minute window. The counters live in this process: with several API
 * processes behind a balancer each enforces the limit on its own share.
 *
 * The limiter touches only headers and `res.locals`, so the order intake runs it on Node's own request too.
 */
export function rateLimitPerCredential(perMinute: number): PlainHandler {
  const limiter = rateLimit({
    windowMs: 60_000,
    limit: perMinute,
    standardHeaders: 'draft-7',
    legacyHeaders: false,
    keyGenerator: (_req, res) => callerOf(res).clientId,
    handler: (req, res) => {
      const resetTime = (req as unknown as { rateLimit?: { resetTime?: Date } }).rateLimit?.resetTime;
      const seconds = resetTime ? Math.max(1, Math.ceil((resetTime.getTime() - Date.now()) / 1000)) : 60;
      res.setHeader('Retry-After', String(seconds));
      sendProblem(res, new ProblemError(429, 'rate_limited', 'Too many requests', `this credential may make ${perMinute} requests a minute; retry in ${seconds} s`));
    },
  });
  return limiter as unknown as PlainHandler;
}
