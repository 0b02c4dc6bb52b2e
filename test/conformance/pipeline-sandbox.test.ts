import { signSandboxCallback } from '../../adapters/sandbox/simulator.ts';
import { benefitOrder } from '../support/http.ts';
import { describePipelineContract, ordinarySuffix, startPipelineKassa, type PipelineOutcome } from './pipeline-contract.ts';

/**
 * The sandbox rail through the whole of Kassa, against the sandbox simulator the test Kassa starts itself.
 * Outcomes by the payee's last four digits: 0000 declined AC04, 0002 pending and settled 500 ms later with a
 * signed callback, anything else completed at once. All callback modes are native to the simulator
 * (`early` applies to payments final at once, `duplicate` to the pushes of pending ones, which it sends).
 */
describePipelineContract('sandbox', async () => {
  const harness = await startPipelineKassa({ RAILS: 'sandbox' });
  const simulator = harness.kassa.simulator;
  const suffix: Record<PipelineOutcome, () => string> = { completed: ordinarySuffix, declined: () => '0000', late: () => '0002' };
  return {
    rail: 'sandbox',
    kassa: harness.kassa,
    api: harness.api,
    harness,
    orderBody: (outcome) => benefitOrder({ payee: { type: 'msisdn', value: `+25471${ordinarySuffix().slice(1)}${suffix[outcome]()}` } }),
    declineReasonCode: 'AC04',
    setRail: (mode) => simulator.setBehaviour({ mode }),
    setCallbacks: (mode) => simulator.setCallbackBehaviour({ mode }),
    callbackModes: { duplicate: 'late', early: 'completed', never: true },
    executions: (railKey) => simulator.executions(railKey),
    requests: (railKey) => simulator.requestCount(railKey),
    forgeCallback(railKey) {
      const body = JSON.stringify({ key: railKey, status: 'completed', rail_reference: 'SBX-999999' });
      return {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'sandbox-signature': signSandboxCallback(body, 'not-the-sandbox-callback-secret') },
        body,
        railReference: 'SBX-999999',
      };
    },
    teardown: () => harness.stop(),
  };
});
