/**
 * Exponential backoff with full-range jitter (0.5×–1.5×), so that orders held by the same outage
 * do not all come back at the same instant.
 */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const exponential = Math.min(baseMs * 2 ** Math.min(attempt, 30), maxMs);
  return Math.round(exponential * (0.5 + random()));
}
