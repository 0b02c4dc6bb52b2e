import { z } from 'zod';
import { BATCH_STATUSES } from '../domain/batch.ts';
import { minorUnitsOf, parseMoney } from '../domain/money.ts';
import { ORDER_KINDS, PARTY_TYPES } from '../domain/order.ts';
import { ORDER_STATUSES } from '../domain/order-status.ts';
import { partyValueProblem } from '../domain/party.ts';
import { SCOPES } from '../domain/scopes.ts';

export const partySchema = z
  .strictObject({
    type: z.enum(PARTY_TYPES),
    value: z.string().min(1).max(128),
    institution: z.string().min(1).max(64).optional(),
  })
  .superRefine((party, context) => {
    const problem = partyValueProblem(party.type, party.value);
    if (problem) context.addIssue({ code: 'custom', path: ['value'], message: problem });
  });

export const createOrderSchema = z
  .strictObject({
    kind: z.enum(ORDER_KINDS),
    amount: z.string().regex(/^(0|[1-9]\d{0,17})(\.\d+)?$/, 'must be a positive decimal string such as "125.50"').describe('Major units, e.g. "125.50"'),
    currency: z.string().refine((code) => /^[A-Z]{3}$/.test(code) && minorUnitsOf(code) !== undefined, 'must be an ISO 4217 currency code'),
    payer: partySchema,
    payee: partySchema,
    reference: z.string().min(1).max(140),
    callback_url: z.url({ protocol: /^https?$/ }).max(2048).optional(),
    metadata: z.record(z.string().max(64), z.unknown()).optional(),
  })
  .superRefine((order, context) => {
    const parsed = parseMoney(order.amount, order.currency);
    if (!parsed.ok) context.addIssue({ code: 'custom', path: [parsed.field], message: parsed.reason });
  });
export type CreateOrderBody = z.infer<typeof createOrderSchema>;

const isoDate = z.iso.datetime({ offset: true });
const limit = z.coerce.number().int().min(1).max(200).default(50);

export const listOrdersQuerySchema = z.strictObject({
  kind: z.enum(ORDER_KINDS).optional(),
  status: z.enum(ORDER_STATUSES).optional(),
  created_from: isoDate.optional(),
  created_to: isoDate.optional(),
  cursor: z.string().max(200).optional(),
  limit,
});

export const listAuditQuerySchema = z.strictObject({
  from: isoDate.optional(),
  to: isoDate.optional(),
  actor: z.string().max(200).optional(),
  action: z.string().max(100).optional(),
  cursor: z.string().regex(/^\d+$/).optional(),
  limit,
});

export const createClientSchema = z.strictObject({
  name: z.string().min(1).max(100),
  scopes: z.array(z.enum(SCOPES)).min(1),
});

export const webhookEndpointSchema = z.strictObject({ url: z.url({ protocol: /^https?$/ }).max(2048) });

export const idSchema = z.uuid();
export const idParamsSchema = z.object({ id: idSchema });

const decimalText = z.string().regex(/^(0|[1-9]\d{0,17})(\.\d+)?$/, 'must be a positive decimal string such as "125.50"');
const controlTotals = z.record(z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code'), decimalText);

/** Kassa's batch envelope: what the agency declares of the batch as a whole. */
export const batchEnvelopeSchema = z.strictObject({
  program: z.string().min(1).max(20).optional(),
  reference: z.string().min(1).max(140).optional(),
  /** Whose account-mapper registrations resolve the payees' functional IDs. */
  registering_institution: z.string().min(1).max(20).optional(),
  callback_url: z.url({ protocol: /^https?$/ }).max(2048).optional(),
  execute_at: isoDate.optional(),
  control: z.strictObject({ count: z.number().int().min(1), totals: controlTotals }),
});

export const batchPaymentSchema = z.strictObject({
  instruction_id: z.string().min(1).max(64),
  payee_identity: z.string().min(1).max(128).optional(),
  payee: z.strictObject({ type: z.enum(PARTY_TYPES), value: z.string().min(1).max(128), institution: z.string().min(1).max(64).optional() }).optional(),
  payer: z.strictObject({ type: z.enum(PARTY_TYPES), value: z.string().min(1).max(128), institution: z.string().min(1).max(64).optional() }).optional(),
  amount: z.string().max(40),
  currency: z.string().max(3),
  note: z.string().max(140).optional(),
});

export const createBatchSchema = batchEnvelopeSchema.extend({ payments: z.array(batchPaymentSchema).min(1) });

/** A CSV upload carries its envelope in the query: control_total is CUR:amount, comma-separated per currency. */
export const csvBatchQuerySchema = z.strictObject({
  program: z.string().min(1).max(20).optional(),
  reference: z.string().min(1).max(140).optional(),
  /** Whose account-mapper registrations resolve the payees' functional IDs. */
  registering_institution: z.string().min(1).max(20).optional(),
  callback_url: z.url({ protocol: /^https?$/ }).max(2048).optional(),
  execute_at: isoDate.optional(),
  control_count: z.coerce.number().int().min(1),
  control_total: z.string().regex(/^[A-Z]{3}:(0|[1-9]\d{0,17})(\.\d+)?(,[A-Z]{3}:(0|[1-9]\d{0,17})(\.\d+)?)*$/, 'must be CUR:amount, comma-separated, e.g. KES:125000.00'),
});

export const listBatchesQuerySchema = z.strictObject({
  status: z.enum(BATCH_STATUSES).optional(),
  cursor: z.string().max(200).optional(),
  limit,
});

export const batchPaymentsQuerySchema = z.strictObject({
  outcome: z.enum(['invalid', 'failed', 'completed', 'in_progress', 'cancelled', 'unpaid']).optional(),
  format: z.enum(['json', 'csv']).default('json'),
  after_row: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

const minorAmount = z.string().regex(/^(0|[1-9]\d{0,17})(\.\d+)?$/, 'must be a decimal string such as "1000000.00"');

export const createProgramSchema = z.strictObject({
  code: z.string().regex(/^[A-Za-z0-9_.-]{1,20}$/, 'must be 1–20 letters, digits, dots, dashes or underscores'),
  name: z.string().min(1).max(140),
  currency: z.string().refine((code) => /^[A-Z]{3}$/.test(code) && minorUnitsOf(code) !== undefined, 'must be an ISO 4217 currency code'),
  funding_account: partySchema,
  budget: minorAmount,
  approval_threshold: minorAmount.default('0'),
  default: z.boolean().default(false),
});
