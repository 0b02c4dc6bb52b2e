import { z } from 'zod';
import { BILL_PREFIX, PARTICIPANT_CODE } from '../domain/bill.ts';
import { minorUnitsOf } from '../domain/money.ts';
import { partySchema } from './schemas.ts';

const code = z.string().regex(PARTICIPANT_CODE, 'must be 1–20 letters, digits, dots, dashes or underscores');
const httpUrl = z.url({ protocol: /^https?$/ }).max(2048);

export const registerBillerSchema = z.strictObject({
  code,
  name: z.string().min(1).max(140),
  currency: z.string().refine((currency) => /^[A-Z]{3}$/.test(currency) && minorUnitsOf(currency) !== undefined, 'must be an ISO 4217 currency code'),
  account: partySchema,
  bill_source_url: httpUrl,
  prefixes: z
    .array(z.string().regex(BILL_PREFIX, 'must be 1–20 letters, digits, dots, dashes or underscores'))
    .min(1)
    .max(50)
    .refine((prefixes) => new Set(prefixes).size === prefixes.length, 'must not repeat a prefix'),
});

export const registerPayerInstitutionSchema = z.strictObject({
  code,
  name: z.string().min(1).max(140),
  settlement_account: partySchema,
  rtp_url: httpUrl.optional(),
});
