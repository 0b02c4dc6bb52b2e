import { z } from 'zod';
import { parseDuration } from '../domain/duration.ts';
import { MERCHANT_KINDS } from '../domain/voucher.ts';
import { partySchema } from './schemas.ts';

const groupCode = z.string().regex(/^[A-Za-z0-9_.-]{1,20}$/, 'must be 1–20 letters, digits, dots, dashes or underscores');

export const createVoucherGroupSchema = z.strictObject({
  code: groupCode,
  name: z.string().min(1).max(140),
  /** The code of the program whose budget funds the group's vouchers. */
  program: z.string().min(1).max(20),
  /** How long a voucher stays valid, from pre-activation and again from activation. */
  validity: z.string().refine((text) => parseDuration(text) !== undefined, 'must be an ISO 8601 duration in days, hours, minutes or seconds, such as P90D or PT12H').default('P90D'),
});

export const registerMerchantSchema = z.strictObject({
  /** GovStack's agentID. */
  code: z.string().regex(/^[A-Za-z0-9_.-]{1,10}$/, 'must be 1–10 letters, digits, dots, dashes or underscores'),
  name: z.string().min(1).max(140),
  kind: z.enum(MERCHANT_KINDS).default('merchant'),
  account: partySchema,
  /** The voucher groups it may redeem; absent: every group. */
  voucher_groups: z.array(groupCode).min(1).optional(),
  /** Issue the merchant a credential of its own (scope vouchers:redeem), shown once in the answer. */
  credential: z.boolean().default(false),
  /** The biller it stands for: bills of that biller paid with the organisation's vouchers pay out to it. */
  biller: z.string().regex(/^[A-Za-z0-9_.-]{1,20}$/, 'must be a biller code: 1–20 letters, digits, dots, dashes or underscores').optional(),
});
