import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { MODALITY_CODES, type Beneficiary } from '../../domain/beneficiary.ts';
import type { ServiceContext } from '../../services/context.ts';
import { lookUpBeneficiaries } from '../../services/look-up-beneficiaries.ts';
import { registerBeneficiaries } from '../../services/register-beneficiaries.ts';
import type { BeneficiaryResults, RegistrarRequest, RegistrarService } from '../../services/registrar-requests.ts';
import { updateBeneficiaries } from '../../services/update-beneficiaries.ts';
import { callerOf } from '../middleware/authenticate.ts';
import { originOf } from '../request-parts.ts';
import {
  acceptParts, CALLBACK_URL_HEADERS, caseInsensitiveObject, fitDescription, givenRequestId, govStackErrors, govStackGuards, GovStackRejection, headerOf,
  MAX_BENEFICIARIES_PER_REQUEST, parsePart, REGISTERING_INSTITUTION_HEADERS,
} from '../govstack.ts';

// GovStack Payments BB v3 account mapper (api-v3/g2p): register and update beneficiaries, answered at once with
// the per-beneficiary results pushed to X-Callback-URL, and look them up.

// The files give the callback URL 20 or 100 characters, too few for real URLs; Kassa's usual limit applies.
const callbackUrl = z.url({ protocol: /^https?$/, error: (issue) => (issue.input === undefined ? undefined : 'must be an http(s) URL') }).max(2048);

const registrationHeaders = z.object({ 'X-Callback-URL': callbackUrl, 'X-Registering-Institution-ID': z.string().min(1).max(12) });
const registrationBody = caseInsensitiveObject({
  RequestID: z.string().min(1).max(12),
  Beneficiaries: z
    .array(caseInsensitiveObject({
      payeeIdentity: z.string().min(1).max(20),
      PaymentModality: z.enum(MODALITY_CODES),
      FinancialAddress: z.string().min(1).max(30),
      bankingInstitutionCode: z.string().min(1).max(11).optional(),
    }))
    .min(1)
    .max(MAX_BENEFICIARIES_PER_REQUEST),
});

const updateHeaders = z.object({ 'X-Callback-URL': callbackUrl, 'X-Registering-Institution-ID': z.string().min(1).max(12).optional() });
const updateBody = caseInsensitiveObject({
  requestID: z.string().min(1).max(12),
  sourceBBID: z.string().min(1).max(12),
  beneficiaries: z
    .array(caseInsensitiveObject({
      payeeIdentity: z.string().min(1).max(20),
      bankingInstitutionCode: z.string().min(1).max(11).optional(),
      paymentModality: z.enum(MODALITY_CODES).optional(),
      financialAddress: z.string().min(1).max(30).optional(),
    }))
    .min(1)
    .max(MAX_BENEFICIARIES_PER_REQUEST),
});

const lookupHeaders = z.object({ registeringInstitutionId: z.string().min(1).max(20) });
const lookupQuery = caseInsensitiveObject({ payeeIdentity: z.string().min(1).max(20), requestId: z.string().min(1).max(12) });
const bulkLookupBody = caseInsensitiveObject({
  requestId: z.string().min(1).max(12),
  payeePartyIds: z.array(z.string().min(1).max(20)).min(1).max(MAX_BENEFICIARIES_PER_REQUEST),
});

function acknowledge(res: Response, requestId: string, results: BeneficiaryResults, verb: 'registered' | 'updated'): void {
  const done = results.outcomes.filter((outcome) => outcome.result === verb).length;
  if (results.replayed) res.setHeader('Idempotent-Replayed', 'true');
  res.status(200).json({
    responseCode: '00',
    responseDescription: fitDescription(`Request received: ${done} of ${results.outcomes.length} beneficiaries ${verb}; per-beneficiary results follow on X-Callback-URL`),
    requestID: requestId,
  });
}

function presentLookup(requestId: string, beneficiaries: readonly Beneficiary[]) {
  return {
    requestId,
    paymentModalityList: beneficiaries.map((beneficiary) => ({
      payeeIdentity: beneficiary.functionalId,
      paymentModality: beneficiary.modality,
      financialAddress: beneficiary.financialAddress,
      ...(beneficiary.institutionCode === null ? {} : { bankingInstitutionCode: beneficiary.institutionCode }),
    })),
  };
}

const registeringInstitutionOf = (req: Request) => headerOf(req, REGISTERING_INSTITUTION_HEADERS);

/** The headers a registration and an update both read, each under any of its spellings. */
const writeHeaders = (req: Request) => ({ 'X-Callback-URL': headerOf(req, CALLBACK_URL_HEADERS), 'X-Registering-Institution-ID': registeringInstitutionOf(req) });

function readRegistration(req: Request): RegistrarRequest {
  const [headers, body] = acceptParts(
    givenRequestId(req.body),
    parsePart(registrationHeaders, writeHeaders(req), 'header'),
    parsePart(registrationBody, req.body, 'body'),
  );
  return {
    requestId: body.RequestID,
    registeringInstitution: headers['X-Registering-Institution-ID'],
    callbackUrl: headers['X-Callback-URL'],
    beneficiaries: body.Beneficiaries.map((beneficiary) => ({
      functionalId: beneficiary.payeeIdentity, modality: beneficiary.PaymentModality, financialAddress: beneficiary.FinancialAddress, institutionCode: beneficiary.bankingInstitutionCode,
    })),
  };
}

function readUpdate(req: Request): RegistrarRequest {
  const [headers, body] = acceptParts(
    givenRequestId(req.body),
    parsePart(updateHeaders, writeHeaders(req), 'header'),
    parsePart(updateBody, req.body, 'body'),
  );
  // The update names its institution in the body; a header that says otherwise is a mistake, not a choice.
  if (headers['X-Registering-Institution-ID'] !== undefined && headers['X-Registering-Institution-ID'] !== body.sourceBBID) {
    throw new GovStackRejection(400, 'Bad request: header X-Registering-Institution-ID does not match sourceBBID', body.requestID);
  }
  return {
    requestId: body.requestID,
    registeringInstitution: body.sourceBBID,
    callbackUrl: headers['X-Callback-URL'],
    beneficiaries: body.beneficiaries.map((beneficiary) => ({
      functionalId: beneficiary.payeeIdentity, modality: beneficiary.paymentModality, financialAddress: beneficiary.financialAddress, institutionCode: beneficiary.bankingInstitutionCode,
    })),
  };
}

export function govStackAccountMapperRouter(context: ServiceContext): Router {
  const router = Router();
  const guards = govStackGuards(context);
  const handle = (service: RegistrarService, verb: 'registered' | 'updated', read: (req: Request) => RegistrarRequest) => async (req: Request, res: Response) => {
    const request = read(req);
    acknowledge(res, request.requestId, await service(context, callerOf(res), originOf(req, res), request), verb);
  };

  router.post('/identityAccountMapper/beneficiary', ...guards, handle(registerBeneficiaries, 'registered', readRegistration));
  router.put('/identityAccountMapper/beneficiary', ...guards, handle(updateBeneficiaries, 'updated', readUpdate));

  // The lookups answer with the data itself, so the X-Callback_URL the files also list is accepted but not needed.
  router.get('/beneficiary', ...guards, async (req, res) => {
    const [headers, query] = acceptParts(
      givenRequestId(req.query),
      parsePart(lookupHeaders, { registeringInstitutionId: registeringInstitutionOf(req) }, 'header'),
      parsePart(lookupQuery, req.query, 'query'),
    );
    const found = await lookUpBeneficiaries(context, callerOf(res), originOf(req, res), { requestId: query.requestId, registeringInstitution: headers.registeringInstitutionId, functionalIds: [query.payeeIdentity] });
    res.status(200).json(presentLookup(query.requestId, found));
  });

  router.put('/beneficiary', ...guards, async (req, res) => {
    const [headers, body] = acceptParts(
      givenRequestId(req.body),
      parsePart(lookupHeaders, { registeringInstitutionId: registeringInstitutionOf(req) }, 'header'),
      parsePart(bulkLookupBody, req.body, 'body'),
    );
    const found = await lookUpBeneficiaries(context, callerOf(res), originOf(req, res), { requestId: body.requestId, registeringInstitution: headers.registeringInstitutionId, functionalIds: body.payeePartyIds });
    res.status(200).json(presentLookup(body.requestId, found));
  });

  router.use(govStackErrors);
  return router;
}
