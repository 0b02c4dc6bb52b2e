import type { IncomingMessage } from 'node:http';
import type { Logger } from 'pino';
import type { LocalsResponse, NextStep, PlainHandler } from './plain-handler.ts';
import type { Caller } from '../../domain/caller.ts';

/** At debug level, one line per answered request: what was asked, by whom, and how long the answer took. */
export function requestLog(logger: Logger): PlainHandler {
  return (req: IncomingMessage, res: LocalsResponse, next: NextStep) => {
    if (!logger.isLevelEnabled('debug')) return next();
    const started = performance.now();
    res.on('finish', () => {
      logger.debug({
        requestId: res.locals.requestId, method: req.method, path: req.url?.split('?')[0], status: res.statusCode,
        clientId: (res.locals.caller as Caller | undefined)?.clientId, ms: Math.round((performance.now() - started) * 10) / 10,
      }, 'request');
    });
    next();
  };
}
