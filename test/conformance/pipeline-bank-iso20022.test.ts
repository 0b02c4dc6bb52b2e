import { BANK_SIMULATOR_BIC, BANK_SIMULATOR_TREASURY, startBankSimulator, type BankBehaviour } from '../../adapters/bank-iso20022/simulator.ts';
import { signBankPush } from '../../adapters/bank-iso20022/signature.ts';
import { ibanEndingWith } from '../fixtures/iso20022/support.ts';
import { benefitOrder } from '../support/http.ts';
import { describePipelineContract, ordinarySuffix, startPipelineKassa, type PipelineCallbackMode, type PipelineOutcome, type PipelineRailMode } from './pipeline-contract.ts';

/** How long a …0002 payment stays pending at the bank before it settles and the bank pushes its pain.002. */
const SETTLE_MS = 100;
/**
 * The bank simulator has no `early` push mode: it pushes only when a pending payment settles. The early scenario
 * is built from what it has: `timeout` mode with a hold shorter than RAIL_TIMEOUT_MS (1000 ms) answers the
 * pain.001 after EARLY_HOLD_MS, while the …0002 payment settles after SETTLE_MS and its push reaches Kassa first —
 * the suite checks that the push found the order still waiting for the answer (applied: 1).
 */
const EARLY_HOLD_MS = 850;

/** The ISO 20022 bank rail through the whole of Kassa: benefits to IBANs in EUR, pain.001 out, pain.002 back. */
describePipelineContract('bank-iso20022', async () => {
  const bank = await startBankSimulator({ settleDelayMs: SETTLE_MS });
  const harness = await startPipelineKassa({
    RAILS: 'bank-iso20022',
    RAIL_BANK_ISO20022_BASE_URL: bank.url,
    RAIL_BANK_ISO20022_DEBTOR_NAME: BANK_SIMULATOR_TREASURY.name,
    RAIL_BANK_ISO20022_DEBTOR_IBAN: BANK_SIMULATOR_TREASURY.iban,
    RAIL_BANK_ISO20022_DEBTOR_BIC: BANK_SIMULATOR_TREASURY.bic,
    RAIL_BANK_ISO20022_CALLBACK_SECRET: bank.callbackSecret,
  }).catch(async (error: unknown) => {
    await bank.close();
    throw error;
  });
  let railMode: PipelineRailMode = 'normal';
  let callbackMode: PipelineCallbackMode = 'normal';
  const apply = () => {
    const callbacks: BankBehaviour['callbacks'] = callbackMode === 'duplicate' ? 'duplicate' : callbackMode === 'never' ? 'drop' : 'deliver';
    bank.setBehaviour(callbackMode === 'early' && railMode === 'normal' ? { mode: 'timeout', delayMs: EARLY_HOLD_MS, callbacks } : { mode: railMode, callbacks });
  };
  const suffix: Record<PipelineOutcome, () => string> = { completed: ordinarySuffix, declined: () => '0000', late: () => '0002' };
  return {
    rail: 'bank-iso20022',
    kassa: harness.kassa,
    api: harness.api,
    harness,
    orderBody: (outcome) =>
      benefitOrder({ payee: { type: 'iban', value: ibanEndingWith(suffix[outcome]()), institution: BANK_SIMULATOR_BIC }, currency: 'EUR', amount: '310.45' }),
    declineReasonCode: 'AC04',
    setRail(mode) {
      railMode = mode;
      apply();
    },
    setCallbacks(mode) {
      callbackMode = mode;
      apply();
    },
    callbackModes: { duplicate: 'late', early: 'late', never: true },
    executions: (railKey) => bank.executions(railKey),
    requests: (railKey) => bank.requestCount(railKey),
    forgeCallback(railKey) {
      const body =
        '<?xml version="1.0" encoding="UTF-8"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.002.001.11"><CstmrPmtStsRpt>' +
        `<GrpHdr><MsgId>R0000009999</MsgId><CreDtTm>${new Date().toISOString().slice(0, 19)}Z</CreDtTm></GrpHdr>` +
        '<OrgnlGrpInfAndSts><OrgnlMsgId>M0000009999</OrgnlMsgId><OrgnlMsgNmId>pain.001.001.09</OrgnlMsgNmId></OrgnlGrpInfAndSts>' +
        `<OrgnlPmtInfAndSts><OrgnlPmtInfId>M0000009999</OrgnlPmtInfId><TxInfAndSts><OrgnlEndToEndId>${railKey}</OrgnlEndToEndId><TxSts>ACSC</TxSts>` +
        '<AcctSvcrRef>T9999999999</AcctSvcrRef></TxInfAndSts></OrgnlPmtInfAndSts></CstmrPmtStsRpt></Document>';
      return {
        method: 'POST',
        headers: { 'content-type': 'application/xml; charset=utf-8', 'x-bank-signature': signBankPush('an-attacker-guessing-the-secret', body) },
        body,
        railReference: 'T9999999999',
      };
    },
    async teardown() {
      await harness.stop();
      await bank.close();
    },
  };
});
