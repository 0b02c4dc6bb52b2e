import { signCallback } from '../../adapters/gsma-mobile-money/callback-signature.ts';
import { GSMA_SIMULATOR_DEFAULTS } from '../../adapters/gsma-mobile-money/defaults.ts';
import { startGsmaSimulator, type GsmaCallbackMode } from '../../adapters/gsma-mobile-money/simulator.ts';
import { correlationIdFor } from '../../adapters/gsma-mobile-money/wire.ts';
import { benefitOrder } from '../support/http.ts';
import { eventually } from '../support/kassa.ts';
import { describePipelineContract, ordinarySuffix, startPipelineKassa, type PipelineOutcome } from './pipeline-contract.ts';

/**
 * The GSMA mobile-money rail through the whole of Kassa. Benefits are disbursements to wallets (the operator
 * answers 202, decides 25 ms later and calls back; the adapter follows the request state meanwhile, so most
 * come back final); a wallet ending 0000 does not exist (identification/identifierError → AC01). `late` is a fee
 * by merchant payment: it stays pending until the payer approves on the phone (`settle` = the simulator's
 * approve), then the operator calls back. All callback modes are native to the simulator (`early` applies to
 * disbursements, which it then decides at once and calls back before its 202).
 */
describePipelineContract('gsma-mobile-money', async () => {
  const operator = await startGsmaSimulator();
  const harness = await startPipelineKassa({
    RAILS: 'gsma-mobile-money',
    RAIL_GSMA_MOBILE_MONEY_BASE_URL: operator.url,
    RAIL_GSMA_MOBILE_MONEY_CLIENT_ID: GSMA_SIMULATOR_DEFAULTS.clientId,
    RAIL_GSMA_MOBILE_MONEY_CLIENT_SECRET: GSMA_SIMULATOR_DEFAULTS.clientSecret,
    RAIL_GSMA_MOBILE_MONEY_CALLBACK_SECRET: GSMA_SIMULATOR_DEFAULTS.callbackSecret,
    RAIL_GSMA_MOBILE_MONEY_DISBURSEMENT_ACCOUNT: GSMA_SIMULATOR_DEFAULTS.disbursementAccount,
    RAIL_GSMA_MOBILE_MONEY_COLLECTION_ACCOUNT: GSMA_SIMULATOR_DEFAULTS.collectionAccount,
    RAIL_GSMA_MOBILE_MONEY_CURRENCIES: 'KES',
  }).catch(async (error: unknown) => {
    await operator.close();
    throw error;
  });
  const wallet = (suffix: string) => `+25471${ordinarySuffix().slice(1)}${suffix}`;
  const bodies: Record<PipelineOutcome, () => Record<string, unknown>> = {
    completed: () => benefitOrder({ payee: { type: 'msisdn', value: wallet(ordinarySuffix()) } }),
    declined: () => benefitOrder({ payee: { type: 'msisdn', value: wallet('0000') } }),
    late: () => ({
      kind: 'fee',
      amount: '350.00',
      currency: 'KES',
      payer: { type: 'msisdn', value: wallet(ordinarySuffix()) },
      payee: { type: 'bank_account', value: '0011223344' },
    }),
  };
  return {
    rail: 'gsma-mobile-money',
    kassa: harness.kassa,
    api: harness.api,
    harness,
    orderBody: (outcome) => bodies[outcome](),
    declineReasonCode: 'AC01',
    async settle(railKey) {
      await eventually(async () => (operator.approve(railKey) ? true : undefined), { what: `the merchant payment ${railKey} to await the payer's approval` });
    },
    setRail: (mode) => operator.setBehaviour({ mode }),
    setCallbacks: (mode) => operator.setCallbackMode(mode satisfies GsmaCallbackMode),
    callbackModes: { duplicate: 'late', early: 'completed', never: true },
    executions: (railKey) => operator.executions(railKey),
    requests: (railKey) => operator.requestCount(railKey),
    forgeCallback(railKey) {
      const correlationId = correlationIdFor(railKey);
      const body = JSON.stringify({
        transactionReference: 'MM9999999999',
        transactionStatus: 'completed',
        type: 'disbursement',
        amount: '25.00',
        currency: 'KES',
        requestingOrganisationTransactionReference: railKey,
      });
      return {
        // GSMA operators PUT the final representation to X-Callback-URL.
        method: 'PUT',
        headers: {
          'content-type': 'application/json',
          'x-correlationid': correlationId,
          'x-callback-signature': signCallback('not-the-operators-callback-secret', correlationId, body, Math.floor(Date.now() / 1000)),
        },
        body,
        railReference: 'MM9999999999',
      };
    },
    async teardown() {
      await harness.stop();
      await operator.close();
    },
  };
});
