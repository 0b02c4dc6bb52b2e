import { randomUUID } from 'node:crypto';
import { generateApiKey } from '../domain/api-key.ts';
import type { Caller, RequestOrigin } from '../domain/caller.ts';
import { conflict, ValidationError } from '../domain/errors.ts';
import type { Party } from '../domain/order.ts';
import type { MerchantKind } from '../domain/voucher.ts';
import { insertApiClient } from '../db/repositories/api-clients.ts';
import { appendAudit } from '../db/repositories/audit-log.ts';
import { findBillerByCode } from '../db/repositories/billers.ts';
import { findMerchant, findMerchantOfBiller, insertMerchant, type Merchant } from '../db/repositories/merchants.ts';
import { findVoucherGroupsByCode } from '../db/repositories/voucher-groups.ts';
import type { Database } from '../db/knex.ts';

export interface MerchantRequest {
  readonly code: string;
  readonly name: string;
  readonly kind: MerchantKind;
  /** Where its redemptions are paid; a redemption request can never name another account. */
  readonly account: Party;
  /** The voucher groups it may redeem; null: every group. */
  readonly voucherGroups: readonly string[] | null;
  /** Issue the merchant a credential of its own, which redeems as this merchant and nothing else. */
  readonly credential: boolean;
  /** The code of the biller it stands for: bills of that biller paid with the organisation's vouchers pay out to it. */
  readonly biller?: string;
}

export interface RegisteredMerchant {
  readonly merchant: Merchant;
  /** The new credential's key, shown once: only its hash is kept. */
  readonly apiKey: string | null;
}

/** The name the merchant's own credential goes by, in listings and the audit log. */
export const merchantCredentialName = (code: string) => `merchant:${code}`;

/** Registers a merchant or cash-out agent, and its credential when asked, in one transaction. */
export async function registerMerchant(db: Database, caller: Caller, origin: RequestOrigin, request: MerchantRequest): Promise<RegisteredMerchant> {
  return db.transaction(async (trx) => {
    if (request.voucherGroups) {
      const known = await findVoucherGroupsByCode(trx, caller.organisationId, request.voucherGroups);
      const unknown = request.voucherGroups.filter((code) => !known.has(code));
      if (unknown.length > 0) throw new ValidationError([{ field: 'body.voucher_groups', reason: `the organisation has no voucher group ${unknown.join(', ')}` }]);
    }
    const biller = request.biller === undefined ? undefined : await findBillerByCode(trx, request.biller);
    if (request.biller !== undefined && !biller) throw new ValidationError([{ field: 'body.biller', reason: `there is no biller ${request.biller}` }]);
    if (biller) {
      const standing = await findMerchantOfBiller(trx, caller.organisationId, biller.id);
      if (standing) throw conflict('merchant_exists', `merchant ${standing.code} already stands for biller ${biller.code}`);
    }
    const actor = { organisationId: caller.organisationId, clientId: caller.clientId, actor: caller.clientName, sourceIp: origin.sourceIp, requestId: origin.requestId };
    const generated = request.credential ? generateApiKey() : undefined;
    let apiClientId: string | null = null;
    if (generated) {
      const scopes = ['vouchers:redeem'] as const;
      apiClientId = await insertApiClient(trx, { organisationId: caller.organisationId, name: merchantCredentialName(request.code), keyPrefix: generated.prefix, keyHash: generated.hash, scopes });
      await appendAudit(trx, { ...actor, action: 'api_client.create', target: apiClientId, detail: { name: merchantCredentialName(request.code), scopes } });
    }
    const id = randomUUID();
    const inserted = await insertMerchant(trx, {
      id, organisationId: caller.organisationId, code: request.code, name: request.name, kind: request.kind, account: request.account,
      voucherGroups: request.voucherGroups && [...request.voucherGroups], apiClientId, billerId: biller?.id ?? null,
    });
    if (!inserted) throw conflict('merchant_exists', `the organisation already has a merchant ${request.code}`);
    await appendAudit(trx, { ...actor, action: 'merchant.register', target: id, detail: { code: request.code, kind: request.kind, credential: request.credential, biller: request.biller ?? null } });
    return { merchant: (await findMerchant(trx, caller.organisationId, id))!, apiKey: generated?.key ?? null };
  });
}
