import express, { type Express } from 'express';
import helmet from 'helmet';
import type { ServiceContext } from '../services/context.ts';
import { authenticate } from './middleware/authenticate.ts';
import { problemHandler, routeNotFound } from './middleware/problem.ts';
import { rateLimitPerCredential } from './middleware/rate-limit.ts';
import { requestId } from './middleware/request-id.ts';
import { auditRouter } from './routes/audit.ts';
import { batchesRouter } from './routes/batches.ts';
import { billPaymentsRouter } from './routes/bill-payments.ts';
import { clientsRouter } from './routes/clients.ts';
import { govStackAccountMapperRouter } from './routes/govstack-account-mapper.ts';
import { govStackBatchesRouter } from './routes/govstack-batches.ts';
import { govStackLegacyBeneficiariesRouter } from './routes/govstack-legacy-beneficiaries.ts';
import { govStackLegacyPaymentsRouter } from './routes/govstack-legacy-payments.ts';
import { ledgerRouter } from './routes/ledger.ts';
import { operationsRouter } from './routes/operations.ts';
import { ordersRouter } from './routes/orders.ts';
import { programsRouter } from './routes/programs.ts';
import { railCallbacksRouter } from './routes/rail-callbacks.ts';
import { reconciliationRouter } from './routes/reconciliation.ts';
import { reportsRouter } from './routes/reports.ts';
import { statementsRouter } from './routes/statements.ts';
import { vouchersRouter } from './routes/vouchers.ts';
import { webhookEndpointRouter } from './routes/webhook-endpoint.ts';

export function createApp(context: ServiceContext, publicUrl: () => string): Express {
  const app = express();
  app.disable('x-powered-by');
  // Every answer is computed per request; hashing each body for a validator no client sends back only costs CPU.
  app.disable('etag');
  app.set('trust proxy', 'loopback');
  app.use(requestId);
  app.use(helmet());
  app.use(requestLog(context));
  app.use(operationsRouter(context, publicUrl));

  app.use('/v1/rails', railCallbacksRouter(context));
  app.use(billPaymentsRouter(context));
  app.use(vouchersRouter(context));

  const v1 = express.Router();
  v1.use(authenticate(context.db, context.config.AUTH_CACHE_TTL_MS));
  v1.use(rateLimitPerCredential(context.config.RATE_LIMIT_PER_MINUTE));
  // Batches take their own body parsers: large JSON, or a CSV file streamed as it arrives.
  v1.use('/batches', batchesRouter(context));
  // Statement files are read from the raw body as they arrive (XML and MT940 whole, CSV streamed).
  v1.use('/statements', statementsRouter(context));
  v1.use(express.json({ limit: '1mb', strict: true }));
  v1.use('/programs', programsRouter(context.db));
  v1.use('/orders', ordersRouter(context));
  v1.use('/audit', auditRouter(context.db));
  v1.use('/clients', clientsRouter(context.db));
  v1.use('/webhook-endpoint', webhookEndpointRouter(context.db));
  v1.use('/reconciliation', reconciliationRouter(context));
  v1.use('/ledger', ledgerRouter(context));
  v1.use('/reports', reportsRouter(context));
  app.use('/v1', v1);

  app.use(govStackAccountMapperRouter(context));
  app.use(govStackLegacyBeneficiariesRouter(context));
  app.use(govStackBatchesRouter(context));
  app.use(govStackLegacyPaymentsRouter(context));

  app.use(routeNotFound);
  app.use(problemHandler(context.logger));
  return app;
}

function requestLog(context: ServiceContext): express.RequestHandler {
  return (req, res, next) => {
    if (!context.logger.isLevelEnabled('debug')) return next();
    const started = performance.now();
    res.on('finish', () => {
      context.logger.debug({
        requestId: res.locals.requestId, method: req.method, path: req.path, status: res.statusCode,
        clientId: res.locals.caller?.clientId, ms: Math.round((performance.now() - started) * 10) / 10,
      }, 'request');
    });
    next();
  };
}
