import { z } from 'zod';
import { isIsoDate } from '../domain/statement.ts';

export const dailyReportQuerySchema = z.strictObject({
  date: z.string({ error: 'must be a date such as 2026-11-25' }).refine(isIsoDate, 'must be a date such as 2026-11-25'),
  organisation_id: z.uuid().optional(),
  format: z.enum(['json', 'csv']).optional(),
});
