import assert from 'node:assert/strict';
import { RailError, isRailError, type RailOutcome, type RailPayment } from '../../adapters/contract.ts';

/** The payment's own outcome in a chunk's answer; fails the test when the rail answered it with an error. */
export function outcomeOf(outcomes: ReadonlyMap<string, RailOutcome | Error>, payment: RailPayment): RailOutcome {
  const outcome = outcomes.get(payment.railKey);
  assert.ok(outcome, `no outcome for ${payment.railKey}`);
  if (outcome instanceof Error || isRailError(outcome)) assert.fail(`${payment.railKey} failed with ${outcome.message}`);
  return outcome;
}

/** What a promise rejected with; fails the test when it resolved. */
export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  assert.fail('expected a rejection');
}

export async function railErrorFrom(promise: Promise<unknown>): Promise<RailError> {
  const error = await rejection(promise);
  assert.ok(error instanceof RailError || isRailError(error), `expected a RailError, got ${String(error)}`);
  return error;
}
