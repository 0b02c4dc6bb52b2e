import type { Scope } from './scopes.ts';

/** The authenticated credential behind a request, and where the request came from. */
export interface Caller {
  readonly clientId: string;
  readonly clientName: string;
  readonly organisationId: string;
  readonly scopes: readonly Scope[];
}

export interface RequestOrigin {
  readonly sourceIp: string | null;
  readonly requestId: string;
}
