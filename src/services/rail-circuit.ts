import { isRailError, type RailError, type RailOutcome, type RailStatus } from '../../adapters/contract.ts';
import { admitToRail, recordRailAnswered, recordRailUnavailable, type Admission } from '../db/repositories/rail-circuits.ts';
import type { ServiceContext } from './context.ts';

/** The circuit breaker's view of one rail call: may it go out, and what did the rail's answer say about its health. */
export function railGate(context: Pick<ServiceContext, 'db' | 'config' | 'logger'>) {
  const { CIRCUIT_FAILURE_THRESHOLD: threshold, CIRCUIT_COOLDOWN_MS: cooldownMs, RAIL_TIMEOUT_MS: timeoutMs } = context.config;
  return {
    admit: (rail: string): Promise<Admission> => admitToRail(context.db, rail, Math.max(timeoutMs * 2, cooldownMs)),
    async report(rail: string, answers: Iterable<RailOutcome | RailStatus | RailError>): Promise<void> {
      const unreachable = [...answers].some((answer) => isRailError(answer) && answer.decision === 'unavailable');
      if (!unreachable) return recordRailAnswered(context.db, rail);
      const state = await recordRailUnavailable(context.db, rail, threshold, cooldownMs);
      if (state === 'open') context.logger.warn({ rail, cooldownMs }, 'rail circuit open: its orders wait until a probe finds it back');
    },
  };
}
