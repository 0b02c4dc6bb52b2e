import { z } from 'zod';

export const ledgerAccountsQuerySchema = z.strictObject({
  currency: z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code such as KES').optional(),
  as_of: z.iso.datetime({ offset: true, error: 'must be a date and time with its offset, such as 2026-11-25T18:00:00Z' }).optional(),
  organisation_id: z.uuid().optional(),
});

export const ledgerJournalsQuerySchema = z.strictObject({
  order_id: z.uuid(),
});
