import { z } from 'zod';
import { EXCEPTION_STATUSES, EXCEPTION_TYPES, SEVERITIES } from '../domain/reconciliation.ts';
import { isIsoDate } from '../domain/statement.ts';

const limit = z.coerce.number().int().min(1).max(200).default(50);
const isoDateTime = z.iso.datetime({ offset: true });
const isoDate = z.string().refine(isIsoDate, 'must be a date such as 2026-11-25');
const rail = z.string().regex(/^[a-z0-9-]{1,64}$/, 'must be a rail id such as bank-iso20022');

export const importStatementQuerySchema = z.strictObject({
  rail: rail.optional(),
  reconcile: z.enum(['true', 'false']).default('true').transform((value) => value === 'true'),
});

export const listStatementsQuerySchema = z.strictObject({
  rail: rail.optional(),
  cursor: z.string().max(200).optional(),
  limit,
});

export const startRunSchema = z.union([
  z.strictObject({ statement_id: z.uuid() }),
  z.strictObject({ rail, date: isoDate.optional(), from: isoDate.optional(), to: isoDate.optional() })
    .refine((body) => body.date !== undefined || (body.from !== undefined && body.to !== undefined), { message: 'give date, or from and to', path: ['date'] })
    .refine((body) => body.date === undefined || (body.from === undefined && body.to === undefined), { message: 'give date, or from and to, not both', path: ['date'] })
    .refine((body) => body.from === undefined || body.to === undefined || body.from <= body.to, { message: 'must not be after to', path: ['from'] }),
]);

export const listRunsQuerySchema = z.strictObject({
  rail: rail.optional(),
  statement_id: z.uuid().optional(),
  cursor: z.string().max(200).optional(),
  limit,
});

export const listExceptionsQuerySchema = z.strictObject({
  type: z.enum(EXCEPTION_TYPES).optional(),
  severity: z.enum(SEVERITIES).optional(),
  status: z.enum(EXCEPTION_STATUSES).optional(),
  rail: rail.optional(),
  run_id: z.uuid().optional(),
  from: isoDateTime.optional(),
  to: isoDateTime.optional(),
  cursor: z.string().max(200).optional(),
  limit,
});

export const assignExceptionSchema = z.strictObject({
  assignee: z.string().trim().min(1).max(200),
});

export const resolveExceptionSchema = z.strictObject({
  reason: z.string().trim().min(3).max(2000),
});
