import { z } from 'zod';
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
