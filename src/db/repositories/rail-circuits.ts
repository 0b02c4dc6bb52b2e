import type { Database } from '../knex.ts';

export type Admission = { readonly kind: 'allow' } | { readonly kind: 'probe' } | { readonly kind: 'wait'; readonly untilMs: number };

/**
 * Whether a call to the rail may go out now. A closed circuit lets everything through; an open one holds
 * calls until its retry time, then lets exactly one caller (across all processes) through as the probe.
 * A probe that never reports back is replaced after `probeTimeoutMs`.
 */
export async function admitToRail(db: Database, rail: string, probeTimeoutMs: number): Promise<Admission> {
  const current = await db('rail_circuits').select('state', 'retry_at').where({ rail }).first();
  if (!current || current.state === 'closed') return { kind: 'allow' };
  const probe = await db('rail_circuits')
    .where({ rail })
    .whereIn('state', ['open', 'half_open'])
    .where('retry_at', '<=', db.fn.now())
    .update({ state: 'half_open', retry_at: db.raw(`now() + make_interval(secs => ?)`, [probeTimeoutMs / 1000]), updated_at: db.fn.now() })
    .returning('rail');
  if (probe.length === 1) return { kind: 'probe' };
  const latest = await db('rail_circuits').select('state', 'retry_at').where({ rail }).first();
  if (!latest || latest.state === 'closed') return { kind: 'allow' };
  return { kind: 'wait', untilMs: (latest.retry_at as Date).getTime() };
}

export async function recordRailAnswered(db: Database, rail: string): Promise<void> {
  await db('rail_circuits')
    .where({ rail })
    .where((query) => query.whereNot('state', 'closed').orWhere('consecutive_failures', '>', 0))
    .update({ state: 'closed', consecutive_failures: 0, opened_at: null, retry_at: null, updated_at: db.fn.now() });
}

/** Counts a failure to reach the rail; the circuit opens at the threshold, and a failed probe opens it again at once. */
export async function recordRailUnavailable(db: Database, rail: string, threshold: number, cooldownMs: number): Promise<'open' | 'closed'> {
  const [row] = (await db.raw(
    `INSERT INTO rail_circuits AS c (rail, consecutive_failures) VALUES (?, 1)
     ON CONFLICT (rail) DO UPDATE SET consecutive_failures = c.consecutive_failures + 1, updated_at = now()
     RETURNING state, consecutive_failures`,
    [rail],
  )).rows as { state: string; consecutive_failures: number }[];
  if (row!.state === 'half_open' || row!.consecutive_failures >= threshold) {
    await db('rail_circuits')
      .where({ rail })
      .update({ state: 'open', opened_at: db.raw('COALESCE(opened_at, now())'), retry_at: db.raw(`now() + make_interval(secs => ?)`, [cooldownMs / 1000]), updated_at: db.fn.now() });
    return 'open';
  }
  return 'closed';
}
