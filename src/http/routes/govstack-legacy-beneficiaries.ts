import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import type { ServiceContext } from '../../services/context.ts';
import { registerBeneficiaries } from '../../services/register-beneficiaries.ts';
import type { BeneficiaryResults, RegistrarService } from '../../services/registrar-requests.ts';
import { updateBeneficiaries } from '../../services/update-beneficiaries.ts';
import { callerOf } from '../middleware/authenticate.ts';
import { originOf } from '../request-parts.ts';
import { acceptParts, caseInsensitiveObject, givenRequestId, govStackErrors, govStackGuards, MAX_BENEFICIARIES_PER_REQUEST, parsePart, sendGovStackReply } from '../govstack.ts';

// The older GovStack paths that its published compliance tests call (api-legacy): PascalCase bodies, SourceBBID as
// the registering institution, and the per-beneficiary results in the answer itself, since there is no callback.

/**
 * Only what the legacy files define is checked here; modality and address are optional in them, so a missing
 * or unusable one is that beneficiary's problem ("01"), not the request's (400).
 */
const legacyBody = caseInsensitiveObject({
  RequestID: z.string().length(12),
  SourceBBID: z.string().length(12),
  Beneficiaries: z
    .array(caseInsensitiveObject({
      PayeeFunctionalID: z.string().length(20),
      PaymentModality: z.string().length(2).optional(),
      FinancialAddress: z.string().max(30).optional(),
      BankingInstitutionCode: z.string().min(1).max(11).optional(),
    }))
    .min(1)
    .max(MAX_BENEFICIARIES_PER_REQUEST),
});

function reply(res: Response, requestId: string, results: BeneficiaryResults, verb: 'registered' | 'updated'): void {
  const failures = results.outcomes.filter((outcome) => outcome.result !== verb);
  if (results.replayed) res.setHeader('Idempotent-Replayed', 'true');
  if (failures.length === 0) {
    sendGovStackReply(res, 200, { code: '00', description: `Request successfully received by Pay-BB: ${results.outcomes.length} beneficiaries ${verb}`, requestId });
    return;
  }
  const reasons = failures.map((outcome) => `${outcome.functionalId} ${outcome.result}: ${outcome.reason}`).join('; ');
  sendGovStackReply(res, 200, { code: '01', description: `${failures.length} of ${results.outcomes.length} beneficiaries not ${verb}: ${reasons}`, requestId });
}

export function govStackLegacyBeneficiariesRouter(context: ServiceContext): Router {
  const router = Router();
  const guards = govStackGuards(context);
  const handle = (operation: RegistrarService, verb: 'registered' | 'updated') => async (req: Request, res: Response) => {
    const [body] = acceptParts(givenRequestId(req.body), parsePart(legacyBody, req.body, 'body'));
    const results = await operation(context, callerOf(res), originOf(req, res), {
      requestId: body.RequestID,
      registeringInstitution: body.SourceBBID,
      beneficiaries: body.Beneficiaries.map((beneficiary) => ({
        functionalId: beneficiary.PayeeFunctionalID, modality: beneficiary.PaymentModality, financialAddress: beneficiary.FinancialAddress, institutionCode: beneficiary.BankingInstitutionCode,
      })),
    });
    reply(res, body.RequestID, results, verb);
  };

  // accountmapper.yaml names the same call /register-beneficiaries.
  router.post(['/register-beneficiary', '/register-beneficiaries'], ...guards, handle(registerBeneficiaries, 'registered'));
  router.post('/update-beneficiary-details', ...guards, handle(updateBeneficiaries, 'updated'));
  router.use(govStackErrors);
  return router;
}
