import type { IncomingMessage, ServerResponse } from 'node:http';

/** What the shared middleware keep per request: express gives every response this object, the order intake its own. */
export type LocalsResponse = ServerResponse & { locals: Record<string, unknown> };

export type NextStep = (error?: unknown) => void;

/**
 * Middleware written against Node's own request and response, so that express and the order intake run the
 * very same instances (one auth cache, one rate-limit counter) in front of their handlers.
 */
export type PlainHandler = (req: IncomingMessage, res: LocalsResponse, next: NextStep) => unknown;

/** Runs the steps in order as express would, stopping at the first that fails or answers without calling next. */
export function runSteps(steps: readonly PlainHandler[], req: IncomingMessage, res: LocalsResponse, done: NextStep): void {
  let index = 0;
  const next: NextStep = (error) => {
    if (error !== undefined) return done(error);
    const step = steps[index++];
    if (!step) return done();
    try {
      const running = step(req, res, next);
      if (running instanceof Promise) running.catch(next);
    } catch (thrown) {
      next(thrown);
    }
  };
  next();
}
