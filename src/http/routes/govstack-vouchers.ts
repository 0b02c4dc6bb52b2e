import { Router, type ErrorRequestHandler, type Request, type Response } from 'express';
import { z } from 'zod';
import { decimalTextOf } from '../../domain/batch.ts';
import { COMMAND_DONE, GOVSTACK_VOUCHER_CODES, parseSerialNumber, type SerialCommand, type VoucherRefusal, type VoucherStatus } from '../../domain/voucher.ts';
import { applyVoucherCommand, type VoucherCommandOutcome } from '../../services/apply-voucher-command.ts';
import type { ServiceContext } from '../../services/context.ts';
import { lookUpVoucher } from '../../services/look-up-voucher.ts';
import { preActivateVouchers } from '../../services/pre-activate-vouchers.ts';
import type { RedeemVoucher } from '../../services/redeem-voucher.ts';
import { govStackCallbackUrl } from '../govstack-batch-intake.ts';
import {
  acceptParts, CALLBACK_URL_HEADERS, caseInsensitiveObject, fitDescription, givenRequestId, govStackErrors, GovStackRejection, headerOf, parsePart,
  REGISTERING_INSTITUTION_HEADERS,
} from '../govstack.ts';
import { amountNumber, MAX_VOUCHERS_PER_REQUEST, replying, serialNumberParamOf, shownStatus, voucherGuards, voucherRefusal, type VoucherReplyRefusal } from '../govstack-vouchers.ts';
import { callerOf } from '../middleware/authenticate.ts';
import { originOf } from '../request-parts.ts';

// GovStack Payments BB v3 voucher management (api-v3/vouchers): pre-activation (POST /vouchers), activation,
// suspension and unsuspension (PUT /vouchers?command=…), redemption and cancellation (POST /vouchers?command=…) and
// status (GET /vouchers/{serialNumber}). Refusals carry GovStack's voucher codes (452…464, from 9.2) as their HTTP
// status, in the reply shape each call's file defines. Suspension has no file of its own (5.3.2 requires it): it
// takes the activation's body and reply.

const requestId = z.string().min(1).max(12);
/** The files give a string; an integer is taken too. One that cannot be a serial number is an unknown voucher (456), not a bad request. */
const serialNumber = z.union([z.string().min(1).max(20), z.number()]);

const preActivationHeaders = z.object({
  'X-Callback-URL': govStackCallbackUrl,
  'X-Program-Id': z.string().min(1).max(20).optional(),
  'X-Registering-Institution-Id': z.string().min(1).max(20).optional(),
});

// Amount, currency and group are only required here: what they say is judged by the use case, which refuses an
// unusable one with its own code (452, 453, 454) rather than as a malformed request.
const preActivationBody = caseInsensitiveObject({
  requestID: requestId,
  batchID: z.string().min(1).max(12).optional(),
  voucherInstructions: z
    .array(caseInsensitiveObject({
      instructionID: z.string().min(1).max(16).optional(),
      groupCode: z.string().min(1).max(20),
      currency: z.string().min(1).max(8),
      amount: z.union([z.number(), z.string().max(40)]),
      payeeFunctionalID: z.string().min(1).max(20).optional(),
      narration: z.string().max(50).optional(),
    }))
    .min(1)
    .max(MAX_VOUCHERS_PER_REQUEST),
});

const serialListBody = caseInsensitiveObject({
  RequestID: requestId.optional(),
  BatchID: z.string().min(1).max(12).optional(),
  VoucherInstructions: z.array(caseInsensitiveObject({ serialNumber })).min(1).max(MAX_VOUCHERS_PER_REQUEST),
});

/** The file gives the secret 6 characters; Kassa's voucher numbers are 16 digits, which a guess does not find. */
const redemptionBody = caseInsensitiveObject({
  requestID: requestId.optional(),
  voucherSerialNumber: serialNumber,
  agentID: z.string().min(1).max(10).optional(),
  voucherSecretNumber: z.union([z.string().min(1).max(40), z.number()]),
});

const commandHeaders = z.object({
  'X-Callback-URL': govStackCallbackUrl.optional(),
  'X-Registering-Institution-Id': z.string().min(1).max(20).optional(),
});
const institutionHeader = z.object({ 'X-Registering-Institution-Id': z.string().min(1).max(20).optional() });

/** The redeem file's own enum says `cancel` (a known defect); redeem is `command=redeem`. */
const postCommand = z.object({ command: z.enum(['redeem', 'cancel']) });
const putCommand = z.object({ command: z.enum(['activate', 'suspend', 'unsuspend']) });
const statusQuery = z.object({ fields: z.enum(['status']) });

/** Status codes "01" to "06": GovStack leaves their meaning to the implementation. Errors carry their voucher code. */
const STATUS_CODES: Readonly<Record<VoucherStatus, number>> = { pre_activated: 1, activated: 2, suspended: 3, redeemed: 4, cancelled: 5, expired: 6 };

const FAILURES_NAMED = 5;

export function govStackVouchersRouter(context: ServiceContext, redeem: RedeemVoucher): Router {
  const router = Router();
  const guards = voucherGuards(context);

  const preActivation = replying(refuseAcknowledging(sendAcknowledgement), async (req, res) => {
    const [headers, body] = acceptParts(
      givenRequestId(req.body),
      parsePart(preActivationHeaders, { 'X-Callback-URL': headerOf(req, CALLBACK_URL_HEADERS), 'X-Program-Id': req.get('X-Program-Id'), ...institutionOf(req) }, 'header'),
      parsePart(preActivationBody, req.body, 'body'),
    );
    refuseRepeatedInstructionIds(body.voucherInstructions.flatMap((instruction) => instruction.instructionID ?? []), body.requestID);
    const done = await preActivateVouchers(context, callerOf(res), originOf(req, res), {
      requestId: body.requestID, batchReference: body.batchID ?? null, registeringInstitution: headers['X-Registering-Institution-Id'] ?? '',
      programCode: headers['X-Program-Id'] ?? null, callbackUrl: headers['X-Callback-URL'],
      instructions: body.voucherInstructions.map((instruction) => ({
        instructionId: instruction.instructionID ?? null, groupCode: instruction.groupCode, currency: instruction.currency, amount: decimalTextOf(instruction.amount),
        payeeFunctionalId: instruction.payeeFunctionalID ?? null, narration: instruction.narration ?? null,
      })),
    });
    if (done.replayed) res.setHeader('Idempotent-Replayed', 'true');
    // The file's acknowledgement, and the vouchers as the Create_Vouchers_Response callback lists them: numbers
    // included, this once.
    res.status(200).json({
      ResponseCode: '00',
      ResponseDescription: done.replayed
        ? `This RequestID pre-activated ${done.vouchers.length} vouchers before; their numbers were in that answer only`
        : `${done.vouchers.length} vouchers pre-activated; their numbers are in this answer only`,
      RequestID: body.requestID,
      voucherInstructions: done.vouchers.map((voucher) => ({
        ...(voucher.instructionId === null ? {} : { instructionID: voucher.instructionId }),
        serialNumber: voucher.serialNumber.toString(),
        ...(voucher.voucherNumber === null ? {} : { voucherNumber: voucher.voucherNumber }),
        groupCode: voucher.groupCode,
        currency: voucher.amount.currency,
        amount: amountNumber(voucher.amount),
        ...(voucher.narration === null ? {} : { narration: voucher.narration }),
        expiryDate: voucher.expiresAt.toISOString(),
      })),
    });
  });

  const serialCommand = (command: SerialCommand, send: Acknowledgement) => replying(refuseAcknowledging(send), async (req, res) => {
    const [headers, body] = acceptParts(
      givenRequestId(req.body),
      parsePart(commandHeaders, { 'X-Callback-URL': headerOf(req, CALLBACK_URL_HEADERS), ...institutionOf(req) }, 'header'),
      parsePart(serialListBody, req.body, 'body'),
    );
    const outcome = await applyVoucherCommand(context, callerOf(res), originOf(req, res), {
      command, requestId: body.RequestID ?? null, registeringInstitution: headers['X-Registering-Institution-Id'], callbackUrl: headers['X-Callback-URL'] ?? null,
      vouchers: body.VoucherInstructions.map((instruction) => ({ given: String(instruction.serialNumber), serialNumber: parseSerialNumber(instruction.serialNumber) })),
    });
    if (outcome.replayed) res.setHeader('Idempotent-Replayed', 'true');
    const answer = commandAnswer(command, outcome);
    send(req, res, answer.status, answer.code, answer.description);
  });

  const redemption = replying(refuseRedemption, async (req, res) => {
    const [headers, body] = acceptParts(givenRequestId(req.body), parsePart(institutionHeader, institutionOf(req), 'header'), parsePart(redemptionBody, req.body, 'body'));
    const serial = parseSerialNumber(body.voucherSerialNumber);
    if (serial === undefined) return refuseRedemption(req, res, voucherRefusal('invalid_voucher_number', 'no voucher has this serial number'));
    const redeemed = await redeem(callerOf(res), originOf(req, res), {
      voucherNumber: String(body.voucherSecretNumber).trim(), serialNumber: serial, merchant: { code: body.agentID }, override: false,
      requestId: body.requestID ?? null, registeringInstitution: headers['X-Registering-Institution-Id'], auditDetail: {},
    });
    if (redeemed.replayed) res.setHeader('Idempotent-Replayed', 'true');
    // transactionId is the payout order's id (GET /v1/orders/{id}), longer than the file's 12 characters.
    res.status(200).json({
      status: 1, message: 'Voucher redeemed', serialNumber: redeemed.serialNumber.toString(), value: amountNumber(redeemed.amount),
      timestamp: redeemed.redeemedAt.toISOString(), transactionId: redeemed.orderId,
    });
  });

  const cancellation = serialCommand('cancel', sendCancellationAcknowledgement);
  router.post('/vouchers', ...guards, async (req, res, next) => {
    if (req.query.command === undefined) return preActivation(req, res, next);
    const parsed = parsePart(postCommand, req.query, 'query');
    if (!parsed.ok) return refuseAcknowledging(sendAcknowledgement)(req, res, badRequest(parsed.problems));
    return parsed.data.command === 'redeem' ? redemption(req, res, next) : cancellation(req, res, next);
  });

  const putCommands = { activate: serialCommand('activate', sendAcknowledgement), suspend: serialCommand('suspend', sendAcknowledgement), unsuspend: serialCommand('unsuspend', sendAcknowledgement) };
  router.put('/vouchers', ...guards, async (req, res, next) => {
    const parsed = parsePart(putCommand, req.query, 'query');
    if (!parsed.ok) return refuseAcknowledging(sendAcknowledgement)(req, res, badRequest(parsed.problems));
    return putCommands[parsed.data.command](req, res, next);
  });

  router.get('/vouchers/:serialNumber', ...guards, replying(refuseStatus, async (req, res) => {
    const [, headers] = acceptParts('', parsePart(statusQuery, req.query, 'query'), parsePart(institutionHeader, institutionOf(req), 'header'));
    const voucher = await lookUpVoucher(context.db, callerOf(res), parseSerialNumber(serialNumberParamOf(req)), headers['X-Registering-Institution-Id']);
    if (!voucher) return refuseStatus(req, res, voucherRefusal('invalid_serial_number', 'no voucher has this serial number'));
    res.status(200).json({
      status: STATUS_CODES[shownStatus(voucher)], serialNumber: voucher.serialNumber.toString(), value: amountNumber({ minor: voucher.amountMinor, currency: voucher.currency }),
    });
  }));

  router.use(voucherBodyTooLarge);
  router.use(govStackErrors);
  return router;
}

const voucherBodyTooLarge: ErrorRequestHandler = (error, req, res, next) => {
  if ((error as { type?: string }).type !== 'entity.too.large') return next(error);
  sendAcknowledgement(req, res, 413, '01', `Bad request: the body is too large; send at most ${MAX_VOUCHERS_PER_REQUEST} vouchers a request`);
};

function institutionOf(req: Request) {
  return { 'X-Registering-Institution-Id': headerOf(req, REGISTERING_INSTITUTION_HEADERS) };
}

const badRequest = (problems: readonly string[]): VoucherReplyRefusal => ({ status: 400, message: 'Invalid request', detail: `Bad request: ${problems.join('; ')}` });

function refuseRepeatedInstructionIds(ids: readonly string[], requestIdGiven: string): void {
  const seen = new Set<string>();
  const repeated = new Set(ids.filter((id) => seen.size === seen.add(id).size));
  if (repeated.size > 0) throw new GovStackRejection(400, `Bad request: instructionID ${[...repeated].slice(0, FAILURES_NAMED).join(', ')} appears more than once`, requestIdGiven);
}

const codeOf = (reason: VoucherRefusal) => GOVSTACK_VOUCHER_CODES[reason].code;

/**
 * A call naming vouchers is answered 200 with ResponseCode "00" when every voucher is where it was asked to be, "01"
 * naming the failures otherwise; when every voucher failed for one reason (a call naming one voucher, say), with that
 * reason's code.
 */
function commandAnswer(command: SerialCommand, outcome: VoucherCommandOutcome): { status: number; code: '00' | '01'; description: string } {
  const { failures, requested } = outcome;
  if (failures.length === 0) return { status: 200, code: '00', description: `${requested} vouchers ${COMMAND_DONE[command]}` };
  const reasons = new Set(failures.map((failure) => failure.reason));
  const status = failures.length === requested && reasons.size === 1 ? codeOf(failures[0]!.reason) : 200;
  const named = failures.slice(0, FAILURES_NAMED).map((failure) => `${failure.serialNumber} ${GOVSTACK_VOUCHER_CODES[failure.reason].message}`).join('; ');
  const more = failures.length > FAILURES_NAMED ? `; and ${failures.length - FAILURES_NAMED} more` : '';
  return { status, code: '01', description: `${failures.length} of ${requested} vouchers not ${COMMAND_DONE[command]}: ${named}${more}` };
}

type Acknowledgement = (req: Request, res: Response, status: number, code: '00' | '01', description: string) => void;

/** Pre-activation, activation, suspension: {ResponseCode, ResponseDescription, RequestID}. */
const sendAcknowledgement: Acknowledgement = (req, res, status, code, description) => {
  res.status(status).json({ ResponseCode: code, ResponseDescription: fitDescription(description), RequestID: givenRequestId(req.body) });
};

/** Cancellation: the same, in the lower-case spelling of VoucherCancellation.yml. */
const sendCancellationAcknowledgement: Acknowledgement = (req, res, status, code, description) => {
  res.status(status).json({ responseCode: code, responseDescription: fitDescription(description), requestID: givenRequestId(req.body) });
};

function refuseAcknowledging(send: Acknowledgement) {
  return (req: Request, res: Response, refusal: VoucherReplyRefusal) =>
    send(req, res, refusal.status, '01', refusal.reason === undefined ? refusal.detail : `${refusal.message}: ${refusal.detail}`);
}

/** The redemption file allows a message of 20 characters; `detail` says more. */
const SHORT_MESSAGES: Partial<Readonly<Record<VoucherRefusal, string>>> = {
  invalid_group: 'Invalid voucher group', already_used: 'Voucher already used', expired: 'Voucher has expired', invalid_voucher_number: 'Invalid number',
  insufficient_funds: 'Insufficient funds', cannot_credit_merchant: 'Cannot pay merchant', invalid_voucher: 'Invalid voucher',
  already_cancelled: 'Voucher cancelled', network_timeout: 'Network timeout',
};

/** Redemption: {status 0, message, serialNumber, value 0, timestamp}. */
function refuseRedemption(req: Request, res: Response, refusal: VoucherReplyRefusal): void {
  const given = (req.body as { voucherSerialNumber?: unknown } | undefined)?.voucherSerialNumber;
  res.status(refusal.status).json({
    status: 0, message: (refusal.reason && SHORT_MESSAGES[refusal.reason]) ?? 'Invalid request', detail: refusal.detail,
    ...(typeof given === 'string' || typeof given === 'number' ? { serialNumber: String(given) } : {}), value: 0, timestamp: new Date().toISOString(),
  });
}

/** Status: {status (the error's code), message, serialNumber, value 0}, as the file's error answer. */
function refuseStatus(req: Request, res: Response, refusal: VoucherReplyRefusal): void {
  res.status(refusal.status).json({ status: refusal.status, message: refusal.message, detail: refusal.detail, serialNumber: serialNumberParamOf(req), value: 0 });
}
