import { z } from 'zod';
import { ibanChecksumValid } from '../../src/domain/party.ts';
import { BIC_PATTERN } from './pain001.ts';
import { DEFAULT_BANK_CALLBACK_SECRET } from './signature.ts';

/**
 * The bank rail's options, read at boot from RAIL_BANK_ISO20022_<OPTION> (strings, coerced here):
 * - BASE_URL: the bank's host-to-host endpoint (pain.001 upload, status inquiry, statements);
 * - TIMEOUT_MS: per request, default 10000;
 * - DEBTOR_NAME, DEBTOR_IBAN, DEBTOR_BIC: the government's account at this bank, debited for every payment;
 * - INITIATING_PARTY_NAME: GrpHdr/InitgPty/Nm, default the debtor name;
 * - CALLBACK_SECRET: the HMAC secret of the bank's signed pushes (X-Bank-Signature). The default,
 *   "kassa-local-bank-simulator-secret", is the simulator's and only fit for local runs;
 * - STATEMENT_FORMAT: camt053 (default) or mt940, what fetchStatement asks the bank for.
 */

const emptyAsMissing = (value: unknown) => (typeof value === 'string' && value.trim() === '' ? undefined : value);

const name = z.string().trim().min(1).max(70); // Max140Text, 70 in the EPC profile

export const BankOptionsSchema = z
  .object({
    baseUrl: z.url({ protocol: /^https?$/ }).transform((url) => url.replace(/\/+$/, '')),
    timeoutMs: z.preprocess(emptyAsMissing, z.coerce.number().int().positive().max(600_000).default(10_000)),
    debtorName: name,
    debtorIban: z
      .string()
      .transform((iban) => iban.replace(/\s+/g, '').toUpperCase())
      .refine((iban) => /^[A-Z]{2}\d{2}[A-Z0-9]{11,30}$/.test(iban) && ibanChecksumValid(iban), 'must be a valid IBAN'),
    debtorBic: z
      .string()
      .trim()
      .toUpperCase()
      .regex(BIC_PATTERN, 'must be a BIC (8 or 11 characters)'),
    initiatingPartyName: z.preprocess(emptyAsMissing, name.optional()),
    callbackSecret: z.preprocess(emptyAsMissing, z.string().min(16, 'must be at least 16 characters').default(DEFAULT_BANK_CALLBACK_SECRET)),
    statementFormat: z.preprocess(emptyAsMissing, z.enum(['camt053', 'mt940']).default('camt053')),
  })
  .transform(({ initiatingPartyName, ...options }) => ({ ...options, initiatingPartyName: initiatingPartyName ?? options.debtorName }));

export type BankOptions = z.output<typeof BankOptionsSchema>;
export type BankOptionsInput = z.input<typeof BankOptionsSchema>;
