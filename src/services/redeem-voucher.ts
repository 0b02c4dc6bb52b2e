import { NoRailRoute } from '../../adapters/registry.ts';
import { voucherNumberKey } from '../config/index.ts';
import type { Caller, RequestOrigin } from '../domain/caller.ts';
import { ProblemError } from '../domain/errors.ts';
import type { Money } from '../domain/money.ts';
import { grants } from '../domain/scopes.ts';
import { hashVoucherNumber, isVoucherNumber, merchantMayRedeem, payoutRefusalOf, refusalOf, voucherPayoutOrder, VoucherRefused } from '../domain/voucher.ts';
import { GroupCommit } from '../db/group-commit.ts';
import type { Database } from '../db/knex.ts';
import { findMerchantByCode, findMerchantByNameAndAccount, findMerchantOfBiller, findMerchantOfClient, type Merchant } from '../db/repositories/merchants.ts';
import { findPayoutState, findVoucherByNumber, redeemVouchers, type RedeemableVoucher, type RedeemedVoucher, type VoucherRedemption, type VoucherScope } from '../db/repositories/vouchers.ts';
import type { ServiceContext } from './context.ts';

/**
 * How a redemption names the merchant to pay: GovStack v3 by its code (agentID), the legacy API by name and account,
 * a bill paid with a voucher by the biller the merchant stands for.
 */
export type NamedMerchant =
  | { readonly code: string | undefined }
  | { readonly name: string; readonly accountValue: string }
  | { readonly biller: { readonly id: string; readonly code: string } };

export interface RedemptionRequest {
  /** The secret the beneficiary holds, as given. */
  readonly voucherNumber: string;
  /** v3 names the voucher by its serial number too, which must then match. */
  readonly serialNumber?: bigint;
  readonly merchant: NamedMerchant;
  /** GovStack's override: a voucher of any group may be redeemed at this merchant. */
  readonly override: boolean;
  /** The caller's id for the redemption: sent again by the same merchant, it answers the same redemption. */
  readonly requestId: string | null;
  /** GovStack's issuing agency: when named, only its vouchers are reached. */
  readonly registeringInstitution?: string;
  /** What else the request said, kept in the audit entry. */
  readonly auditDetail: Record<string, unknown>;
}

export interface Redemption {
  readonly serialNumber: bigint;
  readonly amount: Money;
  /** The payout order to the merchant: it goes through the rails like any other order. */
  readonly orderId: string;
  readonly redeemedAt: Date;
  readonly replayed: boolean;
}

export type RedeemVoucher = (caller: Caller, origin: RequestOrigin, request: RedemptionRequest) => Promise<Redemption>;

/** Redemptions arriving together share one statement and one commit, up to this many. */
const REDEMPTIONS_PER_STATEMENT = 200;

/**
 * Redeems vouchers, whole value only, for the merchant that takes them: the voucher becomes redeemed, a payout order to
 * the merchant's registered account is created and its amount moves from blocked to disbursed on the program's budget,
 * all in one statement. Of any number of redemptions of one voucher, however close together, one succeeds.
 * Redemptions that arrive while others are being committed go together in the next statement (a group commit), so the
 * program's budget row does not make every redemption wait for the one before it.
 */
export function voucherRedemption(context: Pick<ServiceContext, 'db' | 'config' | 'rails'>): RedeemVoucher {
  const commit = async (redemptions: VoucherRedemption[]) => {
    const bySerial = new Map((await redeemVouchers(context.db, redemptions)).map((voucher) => [voucher.serialNumber, voucher]));
    return redemptions.map((redemption) => bySerial.get(redemption.serialNumber));
  };
  const writes = new GroupCommit<VoucherRedemption, RedeemedVoucher | undefined>(commit, {
    maxBatch: REDEMPTIONS_PER_STATEMENT,
    maxConcurrent: 1,
    conflictKey: (redemption) => redemption.serialNumber.toString(),
    flushOne: async (redemption) => (await commit([redemption]))[0],
  });
  const key = voucherNumberKey(context.config);
  const ownMerchant = remembered((clientId: string) => findMerchantOfClient(context.db, clientId), context.config.AUTH_CACHE_TTL_MS);

  return async (caller, origin, request) => {
    if (!grants(caller.scopes, 'vouchers:redeem')) throw new ProblemError(403, 'insufficient_scope', 'Forbidden', 'redeeming vouchers needs the vouchers:redeem scope');
    if (!isVoucherNumber(request.voucherNumber)) throw new VoucherRefused('invalid_voucher_number', 'a voucher number is 16 digits');
    const scope: VoucherScope = { organisationId: caller.organisationId, registeringInstitution: request.registeringInstitution };
    const numberHash = hashVoucherNumber(request.voucherNumber, key);
    const [voucher, merchant] = await Promise.all([findVoucherByNumber(context.db, scope, numberHash), merchantRedeeming(context, ownMerchant, caller, request.merchant)]);
    if (!voucher || (request.serialNumber !== undefined && voucher.serialNumber !== request.serialNumber)) {
      throw new VoucherRefused('invalid_voucher_number', 'no voucher has this number and serial number');
    }
    if (!merchant) throw new VoucherRefused('cannot_credit_merchant', 'the merchant is not registered with these details');
    const replay = await replayOf(context.db, voucher, merchant, request);
    if (replay) return replay;
    refuseUnlessRedeemable(voucher);
    if (!merchantMayRedeem(merchant.voucherGroups, voucher.groupCode, request.override)) {
      throw new VoucherRefused('invalid_group', `merchant ${merchant.code} does not take vouchers of group ${voucher.groupCode}`);
    }
    const redeemed = await writes.submit(redemptionOf(context, caller, origin, request, voucher, merchant));
    if (redeemed) {
      return { serialNumber: voucher.serialNumber, amount: { minor: voucher.amountMinor, currency: voucher.currency }, orderId: redeemed.orderId, redeemedAt: redeemed.redeemedAt, replayed: false };
    }
    // Another redemption, or a cancellation or suspension, changed the voucher since it was read.
    const now = (await findVoucherByNumber(context.db, scope, numberHash))!;
    const settled = await replayOf(context.db, now, merchant, request);
    if (settled) return settled;
    refuseUnlessRedeemable(now);
    throw new VoucherRefused('invalid_voucher', 'the voucher changed while it was being redeemed; try again');
  };
}

/**
 * The merchant to pay. A merchant's own credential redeems as that merchant only, so a request naming another is
 * refused; another credential (a GovStack building block at the merchant's point) names the merchant.
 */
async function merchantRedeeming(
  context: Pick<ServiceContext, 'db'>, ownMerchant: (clientId: string) => Promise<Merchant | undefined>, caller: Caller, named: NamedMerchant,
): Promise<Merchant | undefined> {
  const own = await ownMerchant(caller.clientId);
  if (own) return namesMerchant(named, own) ? own : undefined;
  if ('code' in named) return named.code === undefined ? undefined : findMerchantByCode(context.db, caller.organisationId, named.code);
  if ('biller' in named) return merchantOfBiller(context, caller, named.biller);
  return findMerchantByNameAndAccount(context.db, caller.organisationId, named.name, named.accountValue);
}

/** The merchant standing for the biller, or else, as before billers could be linked, the merchant under the biller's code. */
async function merchantOfBiller(context: Pick<ServiceContext, 'db'>, caller: Caller, biller: { readonly id: string; readonly code: string }): Promise<Merchant | undefined> {
  return (await findMerchantOfBiller(context.db, caller.organisationId, biller.id)) ?? (await findMerchantByCode(context.db, caller.organisationId, biller.code));
}

/**
 * A credential's own merchant (or that it has none), remembered as long as authentication remembers the credential:
 * a merchant's account and credential do not change once registered, so a redemption costs one query less.
 */
function remembered(find: (clientId: string) => Promise<Merchant | undefined>, ttlMs: number): (clientId: string) => Promise<Merchant | undefined> {
  const cache = new Map<string, { merchant: Merchant | undefined; expiresAt: number }>();
  return async (clientId) => {
    const now = Date.now();
    const entry = cache.get(clientId);
    if (entry && entry.expiresAt > now) return entry.merchant;
    const merchant = await find(clientId);
    if (cache.size > 10_000) cache.clear();
    cache.set(clientId, { merchant, expiresAt: now + ttlMs });
    return merchant;
  };
}

function namesMerchant(named: NamedMerchant, merchant: Merchant): boolean {
  if ('code' in named) return named.code === undefined || named.code === merchant.code;
  if ('biller' in named) return merchant.billerId === named.biller.id || (merchant.billerId === null && merchant.code === named.biller.code);
  const name = named.name.toLowerCase();
  return (name === merchant.name.toLowerCase() || name === merchant.code.toLowerCase()) && named.accountValue === merchant.account.value;
}

/**
 * A redemption sent again: same request id, same merchant, already redeemed by it. It is answered as the payout now
 * stands, so a merchant that asks again learns, in GovStack's codes, that the payout failed or that its rail has not
 * answered; once the issuer pays it again and it is paid, the redemption is answered as done.
 */
async function replayOf(db: Database, voucher: RedeemableVoucher, merchant: Merchant, request: RedemptionRequest): Promise<Redemption | undefined> {
  const done = voucher.redemption;
  if (!done || request.requestId === null || done.requestId !== request.requestId || done.merchantId !== merchant.id) return undefined;
  const payout = await findPayoutState(db, done.orderId);
  const trouble = payout && payoutRefusalOf(payout.status, payout.failureCode);
  if (trouble === 'network_timeout') {
    throw new VoucherRefused(trouble, `voucher ${voucher.serialNumber} is redeemed; its payout ${done.orderId} was sent and its rail has not said yet whether it was paid`);
  }
  if (trouble) {
    const why = payout.failureReason ? `${payout.failureReason}${payout.failureCode ? ` (${payout.failureCode})` : ''}` : payout.status;
    throw new VoucherRefused(trouble, `voucher ${voucher.serialNumber} is redeemed but its payout ${done.orderId} was not paid: ${why}; the issuer is told and pays it again`);
  }
  return { serialNumber: voucher.serialNumber, amount: { minor: voucher.amountMinor, currency: voucher.currency }, orderId: done.orderId, redeemedAt: done.at, replayed: true };
}

function refuseUnlessRedeemable(voucher: RedeemableVoucher): void {
  const reason = voucher.status === 'activated' && !voucher.pastExpiry ? undefined : refusalOf('redeem', voucher);
  if (reason) throw new VoucherRefused(reason, `voucher ${voucher.serialNumber} is ${voucher.pastExpiry && voucher.status === 'activated' ? 'past its expiry' : voucher.status.replace('_', '-')}`);
}

/** The payout to the merchant goes from the program's funding account to the merchant's registered account. */
function redemptionOf(
  context: Pick<ServiceContext, 'rails'>, caller: Caller, origin: RequestOrigin, request: RedemptionRequest, voucher: RedeemableVoucher, merchant: Merchant,
): VoucherRedemption {
  let rail: string;
  try {
    rail = context.rails.route({ kind: 'benefit', payer: voucher.fundingAccount, payee: merchant.account, currency: voucher.currency }).id;
  } catch (error) {
    if (!(error instanceof NoRailRoute)) throw error;
    throw new VoucherRefused('cannot_credit_merchant', `no rail pays ${voucher.currency} to merchant ${merchant.code}'s account: ${error.message}`);
  }
  return {
    serialNumber: voucher.serialNumber,
    merchantId: merchant.id,
    requestId: request.requestId,
    payout: voucherPayoutOrder(voucher, merchant, rail),
    audit: {
      clientId: caller.clientId, actor: caller.clientName, sourceIp: origin.sourceIp, requestId: origin.requestId,
      detail: { ...request.auditDetail, merchant: merchant.code, override: request.override, redemption_request_id: request.requestId },
    },
  };
}
