import { z } from 'zod';
import {
  batchPaymentsQuerySchema, createBatchSchema, createClientSchema, createOrderSchema, createProgramSchema, csvBatchQuerySchema, listAuditQuerySchema, listBatchesQuerySchema,
  listOrdersQuerySchema, webhookEndpointSchema,
} from './schemas.ts';
import {
  assignExceptionSchema, importStatementQuerySchema, listExceptionsQuerySchema, listRunsQuerySchema, listStatementsQuerySchema, resolveExceptionSchema, startRunSchema,
} from './reconciliation-schemas.ts';
import { registerBillerSchema, registerPayerInstitutionSchema } from './p2g-schemas.ts';
import { ledgerAccountsQuerySchema, ledgerJournalsQuerySchema } from './ledger-schemas.ts';
import { dailyReportQuerySchema } from './report-schemas.ts';
import { createVoucherGroupSchema, registerMerchantSchema } from './voucher-schemas.ts';

const schemaOf = (schema: z.ZodType) => z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' });

function queryParameters(schema: z.ZodObject) {
  const json = schemaOf(schema) as { properties?: Record<string, unknown> };
  return Object.entries(json.properties ?? {}).map(([name, property]) => ({ name, in: 'query', required: false, schema: property }));
}

const problem = { description: 'RFC 9457 problem', content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } } };
const idempotencyKey = { name: 'Idempotency-Key', in: 'header', required: true, schema: { type: 'string', minLength: 1, maxLength: 255 } };
const idPath = { name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } };
const json = (schema: unknown) => ({ content: { 'application/json': { schema } } });
const errors = { 401: problem, 403: problem, 404: problem, 409: problem, 413: problem, 422: problem, 429: problem };

/** The OpenAPI document, built from the same zod schemas that validate requests, so the two cannot drift. */
export function buildOpenApiDocument(serverUrl: string) {
  return {
    openapi: '3.1.0',
    info: { title: 'Kassa', version: '1', description: 'Payments building block: fee and benefit orders, one at a time.', license: { name: 'Apache-2.0' } },
    servers: [{ url: serverUrl }],
    security: [{ bearer: [] }],
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'An API key from `kassa clients create`' } },
      schemas: {
        Problem: {
          type: 'object',
          required: ['type', 'title', 'status', 'code'],
          properties: {
            type: { type: 'string' }, title: { type: 'string' }, status: { type: 'integer' }, code: { type: 'string' }, detail: { type: 'string' },
            errors: { type: 'array', items: { type: 'object', properties: { field: { type: 'string' }, reason: { type: 'string' } } } },
          },
        },
        CreateOrder: schemaOf(createOrderSchema),
        CreateBatch: schemaOf(createBatchSchema),
      },
    },
    paths: {
      '/v1/orders': {
        post: {
          summary: 'Accept a fee or benefit order; answers at once, the rail is called later',
          parameters: [idempotencyKey],
          requestBody: { required: true, ...json({ $ref: '#/components/schemas/CreateOrder' }) },
          responses: { 201: { description: 'The order as accepted' }, ...errors },
        },
        get: { summary: 'List orders, newest first', parameters: queryParameters(listOrdersQuerySchema), responses: { 200: { description: 'A page of orders and next_cursor' }, ...errors } },
      },
      '/v1/orders/{id}': { get: { summary: 'One order with its event timeline', parameters: [idPath], responses: { 200: { description: 'The order' }, ...errors } } },
      '/v1/orders/{id}/cancel': {
        post: { summary: 'Cancel an order not yet submitted to a rail', parameters: [idPath, idempotencyKey], responses: { 200: { description: 'The cancelled order' }, ...errors } },
      },
      '/v1/audit': { get: { summary: 'The audit log (admin)', parameters: queryParameters(listAuditQuerySchema), responses: { 200: { description: 'A page of audit records' }, ...errors } } },
      '/v1/clients': {
        get: { summary: "The organisation's API clients (admin)", responses: { 200: { description: 'Clients' }, ...errors } },
        post: { summary: 'Issue an API key (admin); the key is shown once', parameters: [idempotencyKey], requestBody: { required: true, ...json(schemaOf(createClientSchema)) }, responses: { 201: { description: 'The client and its key' }, ...errors } },
      },
      '/v1/clients/{id}/revoke': { post: { summary: 'Revoke an API key (admin)', parameters: [idPath, idempotencyKey], responses: { 200: { description: 'Revoked' }, ...errors } } },
      '/v1/webhook-endpoint': {
        get: { summary: "The organisation's webhook endpoint (admin)", responses: { 200: { description: 'The endpoint URL' }, ...errors } },
        post: {
          summary: 'Set the webhook endpoint and issue a signing secret (admin). Events are signed: Kassa-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>',
          parameters: [idempotencyKey],
          requestBody: { required: true, ...json(schemaOf(webhookEndpointSchema)) },
          responses: { 200: { description: 'URL and secret' }, ...errors },
        },
      },
      '/v1/programs': {
        get: { summary: "The organisation's benefit programs with their budgets", responses: { 200: { description: 'Programs: budget, blocked, disbursed, available' }, ...errors } },
        post: { summary: 'Create a benefit program with its budget and approval threshold (admin)', parameters: [idempotencyKey], requestBody: { required: true, ...json(schemaOf(createProgramSchema)) }, responses: { 201: { description: 'The program' }, ...errors } },
      },
      '/v1/programs/{id}': { get: { summary: 'One program', parameters: [idPath], responses: { 200: { description: 'The program' }, ...errors } } },
      '/v1/voucher-groups': {
        get: { summary: "The organisation's voucher groups, each funded by a program", responses: { 200: { description: 'Voucher groups' }, ...errors } },
        post: { summary: 'Create a voucher group on a program, with the validity of its vouchers (admin)', parameters: [idempotencyKey], requestBody: { required: true, ...json(schemaOf(createVoucherGroupSchema)) }, responses: { 201: { description: 'The voucher group' }, ...errors } },
      },
      '/v1/merchants': {
        get: { summary: "The organisation's merchants and cash-out agents that redeem vouchers", responses: { 200: { description: 'Merchants and agents' }, ...errors } },
        post: { summary: 'Register a merchant or agent with the account it is paid at, and its own credential if asked (admin)', parameters: [idempotencyKey], requestBody: { required: true, ...json(schemaOf(registerMerchantSchema)) }, responses: { 201: { description: 'The merchant, with its key once' }, ...errors } },
      },
      '/v1/vouchers/{serialNumber}/payouts': {
        post: {
          summary: "Pay a redeemed voucher's merchant again, when the payout its redemption made failed, was cancelled or came back; resolves that payout's exception",
          parameters: [{ name: 'serialNumber', in: 'path', required: true, schema: { type: 'string', pattern: '^[0-9]{1,10}$' } }, idempotencyKey],
          responses: { 201: { description: 'serial_number, the new payout order_id and the previous_order_id' }, ...errors },
        },
      },
      '/v1/billers': {
        get: { summary: "The organisation's billers (GovStack P2G)", responses: { 200: { description: 'Billers with their prefixes and bill source' }, ...errors } },
        post: { summary: 'Register a biller with its bill-ID prefixes and bill source (admin)', parameters: [idempotencyKey], requestBody: { required: true, ...json(schemaOf(registerBillerSchema)) }, responses: { 201: { description: 'The biller' }, ...errors } },
      },
      '/v1/billers/{id}': { get: { summary: 'One biller', parameters: [idPath], responses: { 200: { description: 'The biller' }, ...errors } } },
      '/v1/payer-institutions': {
        get: { summary: "The organisation's payer institutions (GovStack P2G)", responses: { 200: { description: 'Payer institutions' }, ...errors } },
        post: { summary: 'Link a payer institution that pays bills for its customers (admin)', parameters: [idempotencyKey], requestBody: { required: true, ...json(schemaOf(registerPayerInstitutionSchema)) }, responses: { 201: { description: 'The payer institution' }, ...errors } },
      },
      '/v1/payer-institutions/{id}': { get: { summary: 'One payer institution', parameters: [idPath], responses: { 200: { description: 'The payer institution' }, ...errors } } },
      '/v1/batches': {
        post: {
          summary: 'Submit a batch of benefit payments: a JSON envelope, or a CSV file (text/csv) streamed with the envelope in the query. The Idempotency-Key is the batch correlation id.',
          parameters: [idempotencyKey, ...queryParameters(csvBatchQuerySchema)],
          requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/CreateBatch' } }, 'text/csv': { schema: { type: 'string' } } } },
          responses: { 200: { description: 'The same batch, submitted earlier under this correlation id' }, 202: { description: 'The batch, validating' }, ...errors },
        },
        get: { summary: 'List batches, newest first', parameters: queryParameters(listBatchesQuerySchema), responses: { 200: { description: 'A page of batches and next_cursor' }, ...errors } },
      },
      '/v1/batches/{id}': { get: { summary: 'A batch: validation, funds, and counts and amounts per outcome', parameters: [idPath], responses: { 200: { description: 'The batch' }, ...errors } } },
      '/v1/batches/{id}/payments': {
        get: { summary: "The batch's rows and what became of each (format=csv: the whole list as a file)", parameters: [idPath, ...queryParameters(batchPaymentsQuerySchema)], responses: { 200: { description: 'Rows with outcome and reason' }, ...errors } },
      },
      '/v1/batches/{id}/approve': { post: { summary: "Approve a batch (benefits:approve, another credential than the maker's); blocks its total on the budget", parameters: [idPath, idempotencyKey], responses: { 200: { description: 'The approved batch' }, ...errors } } },
      '/v1/batches/{id}/cancel': { post: { summary: 'Cancel what the batch has not sent yet', parameters: [idPath, idempotencyKey], responses: { 200: { description: 'The batch' }, ...errors } } },
      '/v1/statements': {
        post: {
          summary: 'Import a statement file (treasury:write): camt.053, camt.054, MT940 or the statement CSV, recognised by content, and reconcile it',
          parameters: queryParameters(importStatementQuerySchema),
          requestBody: { required: true, content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } } },
          responses: { 201: { description: 'The statement and its reconciliation run' }, 200: { description: 'The same file came before: the earlier statement, nothing counted twice' }, ...errors },
        },
        get: { summary: 'Statements, newest first (treasury:read)', parameters: queryParameters(listStatementsQuerySchema), responses: { 200: { description: 'A page of statements' }, ...errors } },
      },
      '/v1/statements/{id}': { get: { summary: 'One statement (treasury:read)', parameters: [idPath], responses: { 200: { description: 'The statement' }, ...errors } } },
      '/v1/reconciliation/runs': {
        post: { summary: "Pull a rail's statement for a day (or reconcile a stored statement again) and reconcile it (treasury:write)", parameters: [idempotencyKey], requestBody: { required: true, ...json(schemaOf(startRunSchema)) }, responses: { 201: { description: 'The statement and the run' }, 200: { description: 'The statement is the one pulled before' }, ...errors } },
        get: { summary: 'Reconciliation runs, newest first (treasury:read)', parameters: queryParameters(listRunsQuerySchema), responses: { 200: { description: 'A page of runs' }, ...errors } },
      },
      '/v1/reconciliation/runs/{id}': { get: { summary: 'One run (treasury:read)', parameters: [idPath], responses: { 200: { description: 'The run' }, ...errors } } },
      '/v1/reconciliation/exceptions': {
        get: { summary: "Exceptions, newest first: every organisation's (treasury:read) or the caller's own (orders:read)", parameters: queryParameters(listExceptionsQuerySchema), responses: { 200: { description: 'A page of exceptions' }, ...errors } },
      },
      '/v1/reconciliation/exceptions/{id}': { get: { summary: 'One exception', parameters: [idPath], responses: { 200: { description: 'The exception' }, ...errors } } },
      '/v1/reconciliation/exceptions/{id}/assign': { post: { summary: "Assign an exception (treasury:write for any, admin for the organisation's own; audited)", parameters: [idPath, idempotencyKey], requestBody: { required: true, ...json(schemaOf(assignExceptionSchema)) }, responses: { 200: { description: 'The exception' }, ...errors } } },
      '/v1/reconciliation/exceptions/{id}/resolve': { post: { summary: "Resolve an exception with a reason (treasury:write for any, admin for the organisation's own; audited)", parameters: [idPath, idempotencyKey], requestBody: { required: true, ...json(schemaOf(resolveExceptionSchema)) }, responses: { 200: { description: 'The exception' }, ...errors } } },
      '/v1/ledger/accounts': {
        get: { summary: "Accounts with their balances (signed minor units: debit positive, credit negative), as of `as_of` or now: the caller's organisation (orders:read), any with `organisation_id` (treasury:read)", parameters: queryParameters(ledgerAccountsQuerySchema), responses: { 200: { description: 'The accounts' }, ...errors } },
      },
      '/v1/ledger/journals': {
        get: { summary: "The journals an order's money movements were posted in, with their postings", parameters: queryParameters(ledgerJournalsQuerySchema), responses: { 200: { description: 'The journals' }, ...errors } },
      },
      '/v1/reports/daily': {
        get: {
          summary: "The day (00:00 to 24:00 in REPORT_TIMEZONE) per organisation, program and currency: balances, collected, disbursed, returned, rail fees, budgets; clearing accounts per rail and institution against the statements; open exceptions. Every organisation (treasury:read) or the caller's own (orders:read); CSV with format=csv or Accept: text/csv",
          parameters: queryParameters(dailyReportQuerySchema),
          responses: { 200: { description: 'The report', content: { 'application/json': {}, 'text/csv': { schema: { type: 'string' } } } }, ...errors },
        },
      },
      '/health': { get: { security: [], summary: 'The process is alive', responses: { 200: { description: 'ok' } } } },
      '/ready': { get: { security: [], summary: 'Database and queue datastore reachable', responses: { 200: { description: 'ready' }, 503: problem } } },
      '/healthcheck': { get: { security: [], summary: 'Same as /ready', responses: { 200: { description: 'ready' }, 503: problem } } },
      '/metrics': { get: { security: [], summary: 'Prometheus metrics', responses: { 200: { description: 'text exposition format' } } } },
    },
  };
}
