import { Router, type RequestHandler } from 'express';
import { ProblemError } from '../../domain/errors.ts';
import { INQUIRY_QUEUE } from '../../queue/names.ts';
import type { ServiceContext } from '../../services/context.ts';
import { buildOpenApiDocument } from '../openapi.ts';
import { sendProblem } from '../middleware/problem.ts';

const READY_TIMEOUT_MS = 2_000;

function withTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
  return Promise.race([promise, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`${what} did not answer within ${READY_TIMEOUT_MS} ms`)), READY_TIMEOUT_MS).unref())]);
}

/** Unauthenticated endpoints for orchestrators and scrapers. */
export function operationsRouter(context: ServiceContext, publicUrl: () => string): Router {
  const router = Router();
  router.get('/health', (_req, res) => {
    res.json({ status: 'ok' });
  });
  const ready: RequestHandler = async (_req, res) => {
    const checks = await Promise.allSettled([
      withTimeout(context.db.raw('SELECT 1'), 'database'),
      withTimeout(context.queues.queue(INQUIRY_QUEUE).getJobCounts('waiting'), 'queue datastore'),
    ]);
    const failures = checks.flatMap((check) => (check.status === 'rejected' ? [(check.reason as Error).message] : []));
    if (failures.length > 0) return sendProblem(res, new ProblemError(503, 'not_ready', 'Not ready', failures.join('; ')));
    res.json({ status: 'ready', database: 'ok', queues: 'ok' });
  };
  router.get('/ready', ready);
  router.get('/healthcheck', ready);
  router.get('/metrics', async (_req, res) => {
    res.type(context.metrics.registry.contentType).send(await context.metrics.registry.metrics());
  });
  const document = () => buildOpenApiDocument(publicUrl());
  router.get('/openapi.json', (_req, res) => {
    res.json(document());
  });
  return router;
}
