import { NoRailRoute } from '../../adapters/registry.ts';
import type { Caller, RequestOrigin } from '../domain/caller.ts';
import { conflict, notFound, ProblemError } from '../domain/errors.ts';
import { UNPAID_STATUSES } from '../domain/order-status.ts';
import { grants } from '../domain/scopes.ts';
import { voucherPayoutOrder } from '../domain/voucher.ts';
import { lockVoucherPayout, repayVoucher } from '../db/repositories/voucher-payouts.ts';
import type { ServiceContext } from './context.ts';
import { redeemedForBill } from './pay-bill-with-voucher.ts';

export interface VoucherRepayment {
  readonly serialNumber: bigint;
  readonly orderId: string;
  readonly previousOrderId: string;
}

/**
 * Pays a redeemed voucher's merchant again when the payout its redemption made was not paid (failed, cancelled or
 * returned): a new payout order, to the merchant's registered account as it is now, goes through the rails like any
 * other, and the exception the unpaid payout raised is resolved by it. The voucher stays redeemed: the beneficiary
 * has had the goods or the cash. The voucher's lock makes two requests at once pay it again once.
 */
export async function payVoucherAgain(context: Pick<ServiceContext, 'db' | 'rails'>, caller: Caller, origin: RequestOrigin, serialNumber: bigint): Promise<VoucherRepayment> {
  if (!grants(caller.scopes, 'benefits:write')) throw new ProblemError(403, 'insufficient_scope', 'Forbidden', 'paying a voucher again needs the benefits:write scope');
  return context.db.transaction(async (trx) => {
    const voucher = await lockVoucherPayout(trx, caller.organisationId, serialNumber);
    if (!voucher) throw notFound(`voucher ${serialNumber}`);
    if (voucher.status !== 'redeemed' || !voucher.payout || !voucher.merchant) throw conflict('voucher_not_redeemed', `voucher ${serialNumber} is ${voucher.status.replace('_', '-')}; only a redeemed voucher's payout is paid again`);
    if (!UNPAID_STATUSES.includes(voucher.payout.status)) {
      throw conflict('payout_not_unpaid', `voucher ${serialNumber}'s payout ${voucher.payout.orderId} is ${voucher.payout.status}; only a failed, cancelled or returned payout is paid again`);
    }
    if (redeemedForBill(voucher.redemptionRequestId)) {
      throw conflict('voucher_paid_a_bill', `voucher ${serialNumber} paid a bill, which became payable again when the payout failed; the bill is settled with its biller, not paid again here`);
    }
    let rail: string;
    try {
      rail = context.rails.route({ kind: 'benefit', payer: voucher.fundingAccount, payee: voucher.merchant.account, currency: voucher.currency }).id;
    } catch (error) {
      if (!(error instanceof NoRailRoute)) throw error;
      throw new ProblemError(422, 'no_rail', 'No rail for this payment', `no rail pays ${voucher.currency} to merchant ${voucher.merchant.code}'s account: ${error.message}`);
    }
    const payout = voucherPayoutOrder(voucher, voucher.merchant, rail, voucher.payout.orderId);
    const { orderId } = payout;
    await repayVoucher(trx, {
      serialNumber, organisationId: caller.organisationId, programId: voucher.programId, previousOrderId: voucher.payout.orderId,
      order: { ...payout, amountMinor: voucher.amountMinor, currency: voucher.currency },
      resolution: { reason: `paid again as order ${orderId}`, by: caller.clientName },
      audit: {
        organisationId: caller.organisationId, clientId: caller.clientId, actor: caller.clientName, action: 'voucher.payout.repay', target: serialNumber.toString(),
        sourceIp: origin.sourceIp, requestId: origin.requestId, detail: { order_id: orderId, previous_order_id: voucher.payout.orderId, merchant: voucher.merchant.code },
      },
    });
    return { serialNumber, orderId, previousOrderId: voucher.payout.orderId };
  });
}
