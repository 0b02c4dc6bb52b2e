/** How many times the rails executed each order: the promise is exactly once. */
export interface ExecutionDistribution {
  readonly rail: string;
  readonly orders: number;
  readonly never: number;
  readonly once: number;
  readonly moreThanOnce: number;
  /** Keys the rail executed that belong to no order of this rail. */
  readonly strangers: number;
}

export function executionDistribution(
  rail: string,
  railKeys: readonly { readonly rail: string; readonly railKey: string }[],
  executionCounts: ReadonlyMap<string, number>,
): ExecutionDistribution {
  const keys = new Set(railKeys.filter((order) => order.rail === rail).map((order) => order.railKey));
  let never = 0;
  let once = 0;
  let moreThanOnce = 0;
  for (const key of keys) {
    const count = executionCounts.get(key) ?? 0;
    if (count === 0) never += 1;
    else if (count === 1) once += 1;
    else moreThanOnce += 1;
  }
  const strangers = [...executionCounts.keys()].filter((key) => !keys.has(key)).length;
  return { rail, orders: keys.size, never, once, moreThanOnce, strangers };
}

export function executedExactlyOnce(distribution: ExecutionDistribution): boolean {
  return distribution.never === 0 && distribution.moreThanOnce === 0 && distribution.strangers === 0 && distribution.once === distribution.orders;
}
