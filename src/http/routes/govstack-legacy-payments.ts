import { Router, type ErrorRequestHandler, type Request, type Response } from 'express';
import { z } from 'zod';
import { decimalTextOf, type BatchRowInput } from '../../domain/batch.ts';
import { findBatchByCorrelation } from '../../db/repositories/batches.ts';
import type { ServiceContext } from '../../services/context.ts';
import { presentPrepaymentValidation } from '../../services/present-prepayment-validation.ts';
import type { BatchEnvelope } from '../../services/submit-batch.ts';
import {
  GOVSTACK_BATCH_JSON_LIMIT, govStackAmount, govStackBatchTooLarge, govStackCallbackUrl, submitGovStackBatch, type RefusalNames,
} from '../govstack-batch-intake.ts';
import {
  acceptParts, CALLBACK_URL_HEADERS, caseInsensitiveObject, givenRequestId, govStackErrors, govStackGuards, GovStackRejection, headerOf, parsePart, sendGovStackReply,
} from '../govstack.ts';
import { callerOf } from '../middleware/authenticate.ts';

// The older GovStack payment paths its published compliance tests call (api-legacy): /bulk-payment and
// /prepayment-validation with PascalCase bodies, answered {ResponseCode, ResponseDescription, RequestID}, and
// /prepayment-validation-response, where the source asks for the per-instruction result of a validation.
//
// RequestID is the batch's correlation id (re-sent with the same body, the same batch answers; with another body,
// 409), SourceBBID the registering institution whose account-mapper entries resolve PayeeFunctionalID, BatchID the
// source's own name for the batch. A pre-payment validation is a batch that is checked and never paid.

/**
 * The legacy files give lengths but no `required` lists; the compliance tests treat every field as required except
 * Narration on /bulk-payment, which may be absent or null there.
 */
function legacyBatch<N extends z.ZodType>(narration: N) {
  return caseInsensitiveObject({
    RequestID: z.string().length(12),
    SourceBBID: z.string().length(12),
    BatchID: z.string().length(12),
    CreditInstructions: z
      .array(caseInsensitiveObject({
        InstructionID: z.string().length(16),
        PayeeFunctionalID: z.string().length(20),
        Amount: govStackAmount,
        Currency: z.string().length(3),
        Narration: narration,
      }))
      .min(1),
  });
}
const bulkPaymentBody = legacyBatch(z.string().min(1).max(50).nullable().optional());
const prepaymentBody = legacyBatch(z.string().max(50));
type LegacyBatch = z.infer<typeof bulkPaymentBody> | z.infer<typeof prepaymentBody>;

const legacyHeaders = z.object({ 'X-Callback-URL': govStackCallbackUrl.optional(), 'X-Program-Id': z.string().min(1).max(20).optional() });

const validationResponseBody = caseInsensitiveObject({ RequestID: z.string().min(1).max(64), Source_BatchID: z.string().min(1).max(64).optional() });

const NAMES: RefusalNames = { instruction: (row) => `CreditInstructions[${row - 1}]`, program: 'X-Program-Id', correlationId: 'RequestID' };

const PREPAYMENT_PATH = '/prepayment-validation';

export function govStackLegacyPaymentsRouter(context: ServiceContext): Router {
  const router = Router();
  const guards = govStackGuards(context, { jsonLimit: GOVSTACK_BATCH_JSON_LIMIT });

  router.post('/bulk-payment', ...guards, async (req, res) => {
    const [headers, body] = acceptParts(givenRequestId(req.body), headersOf(req), parsePart(bulkPaymentBody, req.body, 'body'));
    const submitted = await submitGovStackBatch(context, req, res, envelopeOf(body, headers, false), rowsOf(body), NAMES);
    if (submitted.replayed) res.setHeader('Idempotent-Replayed', 'true');
    const id = submitted.batch.id;
    sendGovStackReply(res, 200, {
      code: '00',
      description: `Bulk payment received as batch ${id} of ${submitted.batch.rowCount} instructions; its status is at GET /api/v1/batch?batchId=${id}${headers['X-Callback-URL'] ? ' and follows on X-Callback-URL' : ''}`,
      requestId: body.RequestID,
    });
  });

  // The file defines only a 200 answer here: every refusal is a 200 with ResponseCode "01" (see prepaymentRefusals).
  router.post(PREPAYMENT_PATH, ...guards, async (req, res) => {
    const [headers, body] = acceptParts(givenRequestId(req.body), headersOf(req), parsePart(prepaymentBody, req.body, 'body'));
    const submitted = await submitGovStackBatch(context, req, res, envelopeOf(body, headers, true), rowsOf(body), NAMES);
    if (submitted.replayed) res.setHeader('Idempotent-Replayed', 'true');
    sendGovStackReply(res, 200, {
      code: '00',
      description: `Pre-payment validation of ${submitted.batch.rowCount} instructions received; the failed ones follow at /prepayment-validation-response${headers['X-Callback-URL'] ? ' and on X-Callback-URL' : ''}`,
      requestId: body.RequestID,
    });
  });

  /**
   * Prepayment_Validation_Response (9.1.2), which the specification has Payments BB send to the source and the
   * compliance tests ask for here: pushed to X-Callback-URL when the validation was given one, and answered here
   * to whoever asks by RequestID (and Source_BatchID, when given).
   */
  router.post('/prepayment-validation-response', ...guards, async (req, res) => {
    const [body] = acceptParts(givenRequestId(req.body), parsePart(validationResponseBody, req.body, 'body'));
    const batch = await findBatchByCorrelation(context.db, callerOf(res).organisationId, 'govstack_legacy', body.RequestID);
    if (!batch || (body.Source_BatchID !== undefined && batch.reference !== body.Source_BatchID)) {
      throw new GovStackRejection(404, `Not found: no pre-payment validation with RequestID ${body.RequestID}${body.Source_BatchID === undefined ? '' : ` for BatchID ${body.Source_BatchID}`}`, body.RequestID);
    }
    res.status(200).json(await presentPrepaymentValidation(context.db, batch));
  });

  router.use(prepaymentRefusals);
  router.use(govStackBatchTooLarge('split the batch into several requests'));
  router.use(govStackErrors);
  return router;
}

function headersOf(req: Request) {
  return parsePart(legacyHeaders, { 'X-Callback-URL': headerOf(req, CALLBACK_URL_HEADERS), 'X-Program-Id': req.get('X-Program-Id') }, 'header');
}

function envelopeOf(body: LegacyBatch, headers: z.infer<typeof legacyHeaders>, validateOnly: boolean): BatchEnvelope {
  return {
    api: 'govstack_legacy',
    correlationId: body.RequestID,
    reference: body.BatchID,
    registeringInstitution: body.SourceBBID,
    programCode: headers['X-Program-Id'],
    callbackUrl: headers['X-Callback-URL'],
    validateOnly,
    rowProblems: 'reject',
  };
}

async function* rowsOf(body: LegacyBatch): AsyncGenerator<BatchRowInput> {
  for (const instruction of body.CreditInstructions) {
    yield {
      instructionId: instruction.InstructionID,
      payeeIdentity: instruction.PayeeFunctionalID,
      amount: decimalTextOf(instruction.Amount),
      currency: instruction.Currency,
      ...(instruction.Narration ? { note: instruction.Narration } : {}),
    };
  }
}

/** /prepayment-validation answers every refusal of the request itself with 200 and ResponseCode "01". */
const prepaymentRefusals: ErrorRequestHandler = (error, req: Request, res: Response, next) => {
  if (req.path !== PREPAYMENT_PATH) return next(error);
  const type = (error as { type?: string }).type;
  if (error instanceof GovStackRejection) return sendGovStackReply(res, 200, { code: '01', description: error.description, requestId: error.requestId });
  if (type === 'entity.parse.failed') return sendGovStackReply(res, 200, { code: '01', description: 'Bad request: the body is not valid JSON', requestId: '' });
  if (type === 'entity.too.large') {
    return sendGovStackReply(res, 200, { code: '01', description: `Bad request: a batch is limited to ${GOVSTACK_BATCH_JSON_LIMIT}; split it into several requests`, requestId: '' });
  }
  next(error);
};
