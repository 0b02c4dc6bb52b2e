/**
 * Runs `run` once the wall clock has reached `dueAt` (epoch milliseconds). A simulator's rules compare Date.now() with
 * a due time, but setTimeout measures another clock and may fire a millisecond before Date.now() reaches the time it
 * was set for: the rule then finds nothing due, and nothing would look again. A timer that fires early waits again
 * for the rest. Each timer in flight is in `timers`, so that the simulator's close can clear them.
 */
export function whenDue(dueAt: number, run: () => void, timers: Set<NodeJS.Timeout>): void {
  const timer = setTimeout(() => {
    timers.delete(timer);
    if (Date.now() < dueAt) whenDue(dueAt, run, timers);
    else run();
  }, Math.max(0, dueAt - Date.now()));
  timers.add(timer);
}
