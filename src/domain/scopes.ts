/**
 * What a credential may do. Every scope but the treasury's is about the credential's own organisation, and an
 * organisation's `admin` holds all of those. The treasury's two reach across organisations, so no organisation's
 * administrator holds them by being one: `treasury:read` reads statements, reconciliation runs, exceptions, ledgers
 * and reports of every organisation of the deployment; `treasury:write` also imports statements, starts
 * reconciliation runs and assigns and resolves any organisation's exceptions.
 */
export const SCOPES = ['fees:write', 'benefits:write', 'benefits:approve', 'orders:read', 'treasury:read', 'treasury:write', 'admin', 'vouchers:redeem', 'bills:pay'] as const;
export type Scope = (typeof SCOPES)[number];

const DEPLOYMENT_SCOPES: ReadonlySet<Scope> = new Set(['treasury:read', 'treasury:write']);

export function grants(held: readonly Scope[], needed: Scope): boolean {
  if (held.includes(needed)) return true;
  if (needed === 'treasury:read' && held.includes('treasury:write')) return true;
  return held.includes('admin') && !DEPLOYMENT_SCOPES.has(needed);
}
