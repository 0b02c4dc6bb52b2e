/**
 * GSMA Mobile Money API wire formats shared by the adapter and the simulator: correlation ids, amounts,
 * parties and the (lenient) schemas of the objects the operator answers with. Unknown properties are
 * kept out of the way rather than refused: operators add their own.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { minorUnitsOf, type Money } from '../../src/domain/money.ts';

export const UUID_PATTERN = /^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$/;
const HEX32 = /^[0-9A-Fa-f]{32}$/;

/**
 * The X-CorrelationID for a rail key. GSMA wants a UUID; Kassa's rail keys are at most 35 characters of
 * [A-Za-z0-9]. A key of 32 hex digits (what Kassa generates: a UUID without its dashes) is written as
 * that UUID, so the key can be read back from the id. Any other key becomes a name-based UUID
 * (RFC 9562 version 8: the first 128 bits of SHA-256("kassa/gsma-mobile-money/" + key)), stable across
 * retries and processes but not reversible; the key itself always travels in the body as well
 * (`requestingOrganisationTransactionReference`), which the operator echoes.
 */
export function correlationIdFor(railKey: string): string {
  const hex = HEX32.test(railKey) ? railKey : nameBasedHex(`kassa/gsma-mobile-money/${railKey}`);
  return dashed(hex);
}

/** The X-CorrelationID of a batch: a name-based UUID of its sorted rail keys, so a resent chunk carries the same id. */
export function batchCorrelationIdFor(railKeys: readonly string[]): string {
  return dashed(nameBasedHex(`kassa/gsma-mobile-money/batch/${[...railKeys].sort().join(',')}`));
}

/**
 * The rail key a correlation id was made from, when that can be told from the id alone: ids written from
 * 32-hex-digit keys. Name-based ids (version 8, RFC 9562 variant) give undefined.
 */
export function railKeyFromCorrelationId(correlationId: string): string | undefined {
  if (!UUID_PATTERN.test(correlationId)) return undefined;
  const hex = correlationId.replaceAll('-', '');
  const nameBased = hex[12] === '8' && /^[89ab]$/i.test(hex[16] ?? '');
  return nameBased ? undefined : hex;
}

function nameBasedHex(name: string): string {
  const bytes = createHash('sha256').update(name).digest().subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x80;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  return bytes.toString('hex');
}

function dashed(hex: string): string {
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** GSMA amounts: `^([0]|([1-9][0-9]{0,17}))([.][0-9]{0,3}[1-9])?$` — major units, no trailing zeros. */
export const GSMA_AMOUNT_PATTERN = /^([0]|([1-9][0-9]{0,17}))([.][0-9]{0,3}[1-9])?$/;

const digitsCache = new Map<string, number | undefined>();
/** minorUnitsOf, remembered: amounts are converted once per payment on hot paths. */
function digitsOf(currency: string): number | undefined {
  if (!digitsCache.has(currency)) digitsCache.set(currency, /^[A-Z]{3}$/.test(currency) ? minorUnitsOf(currency) : undefined);
  return digitsCache.get(currency);
}

export function toGsmaAmount(money: Money): string {
  const digits = digitsOf(money.currency);
  if (digits === undefined) throw new Error(`${money.currency} is not a currency with minor units`);
  if (money.minor < 0n) throw new Error('a GSMA amount cannot be negative');
  if (digits === 0) return money.minor.toString();
  const text = money.minor.toString().padStart(digits + 1, '0');
  const fraction = text.slice(-digits).replace(/0+$/, '');
  return fraction ? `${text.slice(0, -digits)}.${fraction}` : text.slice(0, -digits);
}

/** Reads a decimal amount in major units into minor units; undefined when it is not one or has more decimals than the currency. */
export function fromGsmaAmount(amount: string, currency: string): Money | undefined {
  const digits = digitsOf(currency);
  const match = /^(0|[1-9]\d{0,17})(?:\.(\d{1,4}))?$/.exec(amount);
  if (digits === undefined || !match) return undefined;
  const [, whole = '0', rawFraction = ''] = match;
  const fraction = rawFraction.replace(/0+$/, '');
  if (fraction.length > digits) return undefined;
  return { minor: BigInt(whole) * 10n ** BigInt(digits) + BigInt(fraction.padEnd(digits, '0') || '0'), currency };
}

export interface GsmaParty {
  readonly key: string;
  readonly value: string;
}

/** `"walletid:GOV-001"` or `{ key, value }`; a bare value means a walletid. */
export const GsmaAccountSchema = z.union([
  z
    .string()
    .trim()
    .min(1)
    .transform((text, ctx): GsmaParty => {
      const colon = text.indexOf(':');
      const party = colon < 0 ? { key: 'walletid', value: text } : { key: text.slice(0, colon).trim(), value: text.slice(colon + 1).trim() };
      if (!/^[a-z]{2,32}$/.test(party.key) || party.value.length === 0 || party.value.length > 256) {
        ctx.addIssue({ code: 'custom', message: 'must be "<identifierType>:<identifier>", e.g. "walletid:GOV-001" or "msisdn:+254700000001"' });
        return z.NEVER;
      }
      return party;
    }),
  z.object({ key: z.string().regex(/^[a-z]{2,32}$/), value: z.string().min(1).max(256) }),
]);

// ---- what the operator answers with ----

const PartySchema = z.object({ key: z.string(), value: z.string() });
const PartiesSchema = z.array(PartySchema);
const MetadataSchema = z.array(z.object({ key: z.string(), value: z.string() }));

export const GsmaErrorSchema = z.object({
  errorCategory: z.string().min(1),
  errorCode: z.string().min(1),
  errordescription: z.string().optional(),
  errorDescription: z.string().optional(),
  errorDateTime: z.string().optional(),
  errorParameters: MetadataSchema.optional(),
});
export type GsmaErrorBody = z.infer<typeof GsmaErrorSchema>;

export const RequestStateSchema = z.object({
  serverCorrelationId: z.string().min(1),
  status: z.enum(['pending', 'completed', 'failed']),
  notificationMethod: z.string().optional(),
  objectReference: z.string().min(1).optional(),
  pendingReason: z.string().optional(),
  expiryTime: z.string().optional(),
  error: GsmaErrorSchema.optional(),
});
export type RequestState = z.infer<typeof RequestStateSchema>;

export const TransactionSchema = z.object({
  transactionReference: z.string().min(1),
  transactionStatus: z.string().min(1),
  type: z.string().optional(),
  amount: z.string().optional(),
  currency: z.string().optional(),
  debitParty: PartiesSchema.optional(),
  creditParty: PartiesSchema.optional(),
  requestingOrganisationTransactionReference: z.string().optional(),
  originalTransactionReference: z.string().optional(),
  creationDate: z.string().optional(),
  modificationDate: z.string().optional(),
  fees: z.array(z.object({ feeType: z.string(), feeAmount: z.string(), feeCurrency: z.string() })).optional(),
});
export type GsmaTransaction = z.infer<typeof TransactionSchema>;

export const BatchSchema = z.object({
  batchId: z.string().min(1),
  batchStatus: z.string().min(1),
  completedCount: z.number().optional(),
  rejectionCount: z.number().optional(),
});

export const CompletionSchema = z.object({
  transactionReference: z.string().min(1),
  requestingOrganisationTransactionReference: z.string().optional(),
  completionDate: z.string().optional(),
  link: z.string().optional(),
});
export const RejectionSchema = z.object({
  transactionReference: z.string().optional(),
  requestingOrganisationTransactionReference: z.string().optional(),
  rejectionReason: z.string().min(1),
  rejectionDate: z.string().optional(),
});

export const ResponseLinkSchema = z.object({ link: z.string().min(1) });

export const AccountNameSchema = z.object({
  name: z
    .object({
      title: z.string().optional(),
      firstName: z.string().optional(),
      middleName: z.string().optional(),
      lastName: z.string().optional(),
      fullName: z.string().optional(),
    })
    .optional(),
});

export const StatementEntrySchema = z.object({
  transactionReference: z.string().min(1),
  transactionStatus: z.string().min(1),
  amount: z.string(),
  currency: z.string(),
  debitParty: PartiesSchema,
  creditParty: PartiesSchema,
  creationDate: z.string().optional(),
  modificationDate: z.string().optional(),
  // Operator extensions this adapter reads when present (the simulator sends them):
  type: z.string().optional(),
  requestingOrganisationTransactionReference: z.string().optional(),
  originalTransactionReference: z.string().optional(),
});

/**
 * A batch rejection carries only free text; operators that follow the convention
 * `<errorCategory>/<errorCode>: <description>` (the simulator does) get their decline mapped precisely.
 */
export function errorOfRejectionReason(reason: string): GsmaErrorBody | undefined {
  const match = /^([A-Za-z]+)\/([A-Za-z]+)(?::\s*(.*))?$/s.exec(reason.trim());
  if (!match) return undefined;
  return { errorCategory: match[1]!, errorCode: match[2]!, ...(match[3] ? { errordescription: match[3] } : {}) };
}

export function parseJson(text: string): unknown {
  if (text.length === 0) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
