/** `treasury:read` reads statements, reconciliation runs and exceptions of every organisation of the deployment. */
export const SCOPES = ['fees:write', 'benefits:write', 'benefits:approve', 'orders:read', 'treasury:read', 'admin', 'vouchers:redeem', 'bills:pay'] as const;
export type Scope = (typeof SCOPES)[number];

export function grants(held: readonly Scope[], needed: Scope): boolean {
  return held.includes(needed) || held.includes('admin');
}
