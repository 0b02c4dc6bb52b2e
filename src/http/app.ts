import express from 'express';
import helmet from 'helmet';
import type { RequestListener } from 'node:http';
import type { ServiceContext } from '../services/context.ts';
import { authenticate } from './middleware/authenticate.ts';
import { problemHandler, routeNotFound } from './middleware/problem.ts';
import { rateLimitPerCredential } from './middleware/rate-limit.ts';
import { requestId } from './middleware/request-id.ts';
import { requestLog } from './middleware/request-log.ts';
import { createOrderIntake, TRUSTED_PROXIES } from './order-intake.ts';
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

/** The whole API: POST /v1/orders by the order intake, everything else by express. */
export function createApi(context: ServiceContext, publicUrl: () => string): RequestListener {
  const securityHeaders = helmet();
  const log = requestLog(context.logger);
  const v1Authenticate = authenticate(context.db, context.config.AUTH_CACHE_TTL_MS);
  const v1RateLimit = rateLimitPerCredential(context.config.RATE_LIMIT_PER_MINUTE);
  const v1Json = express.json({ limit: '1mb', strict: true });

  const app = express();
  app.disable('x-powered-by');
  // Every answer is computed per request; hashing each body for a validator no client sends back only costs CPU.
  app.disable('etag');
  app.set('trust proxy', TRUSTED_PROXIES);
  app.use(requestId);
  app.use(securityHeaders);
  app.use(log);
  app.use(operationsRouter(context, publicUrl));

  app.use('/v1/rails', railCallbacksRouter(context));
  app.use(billPaymentsRouter(context));
  app.use(vouchersRouter(context));

  const v1 = express.Router();
  v1.use(v1Authenticate);
  v1.use(v1RateLimit);
  // Batches take their own body parsers: large JSON, or a CSV file streamed as it arrives.
  v1.use('/batches', batchesRouter(context));
  // Statement files are read from the raw body as they arrive (XML and MT940 whole, CSV streamed).
  v1.use('/statements', statementsRouter(context));
  v1.use(v1Json);
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

  const orderIntake = createOrderIntake(context, [requestId, securityHeaders, log, v1Authenticate, v1RateLimit, v1Json]);
  return (req, res) => {
    if (!orderIntake(req, res)) app(req, res);
  };
}
