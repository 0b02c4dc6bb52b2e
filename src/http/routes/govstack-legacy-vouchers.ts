import { randomUUID } from 'node:crypto';
import { Router, type ErrorRequestHandler, type Request, type Response } from 'express';
import { z } from 'zod';
import { decimalTextOf } from '../../domain/batch.ts';
import type { Caller } from '../../domain/caller.ts';
import { formatMoney } from '../../domain/money.ts';
import { parseSerialNumber, VoucherRefused, type SerialCommand, type VoucherStatus } from '../../domain/voucher.ts';
import { applyVoucherCommand } from '../../services/apply-voucher-command.ts';
import type { ServiceContext } from '../../services/context.ts';
import { lookUpVoucher } from '../../services/look-up-voucher.ts';
import { preActivateVouchers } from '../../services/pre-activate-vouchers.ts';
import type { RedeemVoucher } from '../../services/redeem-voucher.ts';
import { acceptParts, parsePart } from '../govstack.ts';
import { replying, serialNumberParamOf, shownStatus, voucherGuards, voucherRefusal, WordedRefusal, type VoucherReplyRefusal } from '../govstack-vouchers.ts';
import { callerOf } from '../middleware/authenticate.ts';
import { originOf } from '../request-parts.ts';

// The older GovStack voucher paths its published compliance tests call (api-legacy/vouchers-legacy.json): one
// voucher per call, snake_case bodies, and refusals answered {message} with the voucher code as the HTTP status and
// the words those tests expect.
//
// Gov_Stack_BB names the calling building block. Kassa knows a building block by its credential: the name must be
// the credential's own (case aside); any other "does not exist" (460). A body otherwise well formed that names none
// is refused as naming an invalid one (460), as the compliance tests have it.

const buildingBlock = { Gov_Stack_BB: z.string().max(100).optional() };

/** The file's pattern for an amount; a JSON number is taken too. What it says is judged later (452). */
const preActivationBody = z.object({
  ...buildingBlock,
  voucher_amount: z.union([z.string().max(40), z.number()]),
  voucher_currency: z.string().min(1).max(8),
  voucher_group: z.string().min(1).max(20),
  voucher_comment: z.string().max(50).optional(),
});
/** X-CorrelationID, a UUID, makes a pre-activation or a redemption safe to send again. */
const correlationHeader = z.object({ 'X-CorrelationID': z.uuid().optional() });

/** int64 in the file; a string of digits is taken too. One that cannot be a serial number is unknown (456). */
const activationBody = z.object({ ...buildingBlock, voucher_serial_number: z.union([z.number(), z.string().max(20)]) });

const redemptionBody = z.object({
  ...buildingBlock,
  // Absent or null is an invalid voucher number (461), as the compliance tests have it, not a malformed request.
  voucher_number: z.union([z.number(), z.string().max(40), z.null()]).optional(),
  merchant_name: z.string().min(1).max(140),
  merchant_bank_details: z.string().min(1).max(128),
  merchant_voucher_group: z.string().max(20),
  override: z.boolean(),
});

/** The path names the voucher; the body's own serial number is required by the file but not what is cancelled. */
const cancellationBody = z.object({ ...buildingBlock, voucherserialnumber: z.union([z.string().min(1).max(20), z.number()]) });

/** The file's statuses; a redeemed or expired voucher is answered with its error code instead (458, 459). */
const STATUS_NAMES: Partial<Readonly<Record<VoucherStatus, string>>> = {
  pre_activated: 'Pre-Activated', activated: 'Activated', suspended: 'Suspended', cancelled: 'Blocked',
};

export function govStackLegacyVouchersRouter(context: ServiceContext, redeem: RedeemVoucher): Router {
  const router = Router();
  const guards = voucherGuards(context);

  router.post('/vouchers/voucher_preactivation', ...guards, replying(refuse, async (req, res) => {
    const [header, body] = acceptParts('', parsePart(correlationHeader, { 'X-CorrelationID': req.get('X-CorrelationID') }, 'header'), parsePart(preActivationBody, req.body, 'body'));
    refuseUnlessCaller(callerOf(res), body.Gov_Stack_BB);
    const requestId = header['X-CorrelationID'] ?? randomUUID();
    const done = await preActivateVouchers(context, callerOf(res), originOf(req, res), {
      requestId, batchReference: null, registeringInstitution: '', programCode: null, callbackUrl: null,
      instructions: [{
        instructionId: null, groupCode: body.voucher_group, currency: body.voucher_currency, amount: decimalTextOf(body.voucher_amount),
        payeeFunctionalId: null, narration: body.voucher_comment ?? null,
      }],
    });
    const [voucher] = done.vouchers;
    if (done.replayed) {
      // The answer must carry the voucher number, which only the first answer had.
      res.setHeader('Idempotent-Replayed', 'true');
      return void res.status(409).json({
        message: `This X-CorrelationID pre-activated voucher ${voucher!.serialNumber} before; its number was in that answer only`,
        voucher_serial_number: voucher!.serialNumber.toString(),
      });
    }
    res.status(200).json({ voucher_number: voucher!.voucherNumber, voucher_serial_number: voucher!.serialNumber.toString(), expiry_date_time: voucher!.expiresAt.toISOString() });
  }));

  router.patch('/vouchers/voucher_activation', ...guards, replying(refuse, async (req, res) => {
    const [body] = acceptParts('', parsePart(activationBody, req.body, 'body'));
    refuseUnlessCaller(callerOf(res), body.Gov_Stack_BB);
    await applyToOne(context, req, res, 'activate', body.voucher_serial_number);
    res.status(200).json({ result_status: 'Successfully activated voucher' });
  }));

  router.post(['/vouchers/voucher_redemption', '/vouchers/voucher_redeemption'], ...guards, replying(refuse, async (req, res) => {
    const [header, body] = acceptParts('', parsePart(correlationHeader, { 'X-CorrelationID': req.get('X-CorrelationID') }, 'header'), parsePart(redemptionBody, req.body, 'body'));
    refuseUnlessCaller(callerOf(res), body.Gov_Stack_BB);
    const redeemed = await redeem(callerOf(res), originOf(req, res), {
      voucherNumber: body.voucher_number === null || body.voucher_number === undefined ? '' : String(body.voucher_number).trim(),
      merchant: { name: body.merchant_name, accountValue: body.merchant_bank_details }, override: body.override,
      requestId: header['X-CorrelationID'] ?? null, auditDetail: { merchant_voucher_group: body.merchant_voucher_group },
    });
    if (redeemed.replayed) res.setHeader('Idempotent-Replayed', 'true');
    res.status(200).json({
      result_status: 'Voucher is successfully redeemed', voucher_serial_number: redeemed.serialNumber.toString(),
      voucher_amount: formatMoney(redeemed.amount), transaction_id: redeemed.orderId,
    });
  }));

  router.get('/vouchers/voucherstatuscheck/:serialNumber', ...guards, replying(refuse, async (req, res) => {
    const voucher = await lookUpVoucher(context.db, callerOf(res), parseSerialNumber(serialNumberParamOf(req)));
    // This call's file words an unknown serial number as an invalid voucher number.
    if (!voucher) return refuse(req, res, { ...voucherRefusal('invalid_serial_number', 'no voucher has this serial number'), message: 'Invalid voucher number' });
    const status = shownStatus(voucher);
    if (status === 'redeemed') return refuse(req, res, voucherRefusal('already_used', 'the voucher is redeemed'));
    if (status === 'expired') return refuse(req, res, voucherRefusal('expired', 'the voucher is expired'));
    res.status(200).json({ voucher_status: STATUS_NAMES[status], voucher_amount: formatMoney({ minor: voucher.amountMinor, currency: voucher.currency }) });
  }));

  router.patch('/vouchers/voucherstatuscheck/:serialNumber', ...guards, replying(refuse, async (req, res) => {
    const [body] = acceptParts('', parsePart(cancellationBody, req.body, 'body'));
    refuseUnlessCaller(callerOf(res), body.Gov_Stack_BB);
    await applyToOne(context, req, res, 'cancel', serialNumberParamOf(req));
    res.status(200).json({ message: 'Voucher cancelled' });
  }));

  router.use(unreadableBody);
  return router;
}

/** Applies a command to one voucher; its failure is the call's refusal. */
async function applyToOne(context: ServiceContext, req: Request, res: Response, command: SerialCommand, given: string | number): Promise<void> {
  const outcome = await applyVoucherCommand(context, callerOf(res), originOf(req, res), {
    command, requestId: null, callbackUrl: null, vouchers: [{ given: String(given), serialNumber: parseSerialNumber(given) }],
  });
  const [failure] = outcome.failures;
  if (failure) throw new VoucherRefused(failure.reason, `voucher ${failure.serialNumber} cannot be ${command === 'cancel' ? 'cancelled' : `${command}d`}`);
}

function refuseUnlessCaller(caller: Caller, named: string | undefined): void {
  if (named === undefined || named.trim() === '') {
    throw new WordedRefusal({ status: 460, message: 'Invalid Gov Stack Building Block', detail: 'Gov_Stack_BB is required' });
  }
  if (named.trim().toLowerCase() !== caller.clientName.trim().toLowerCase()) {
    throw new VoucherRefused('unknown_building_block', 'Gov_Stack_BB must be the name of the credential the request is sent with');
  }
}

/** {message}, exactly as the compliance tests compare it; the HTTP status is the voucher code, or 400. */
function refuse(_req: Request, res: Response, refusal: VoucherReplyRefusal): void {
  res.status(refusal.status).json({ message: refusal.message });
}

/** A body that cannot be read is a malformed request, answered like the others. */
const unreadableBody: ErrorRequestHandler = (error, req, res, next) => {
  const type = (error as { type?: string }).type;
  if (type === 'entity.parse.failed' || type === 'entity.too.large') return refuse(req, res, { status: 400, message: 'Invalid request', detail: type });
  next(error);
};
