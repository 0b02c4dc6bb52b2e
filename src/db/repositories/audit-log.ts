import type { Database } from '../knex.ts';

export interface AuditEntry {
  readonly organisationId: string | null;
  readonly clientId: string | null;
  readonly actor: string;
  readonly action: string;
  readonly target: string | null;
  readonly sourceIp: string | null;
  readonly requestId: string | null;
  readonly detail?: Record<string, unknown>;
}

export interface AuditRecord extends AuditEntry {
  readonly id: string;
  readonly at: Date;
}

export function auditColumns(entry: AuditEntry) {
  return {
    organisation_id: entry.organisationId,
    client_id: entry.clientId,
    actor: entry.actor,
    action: entry.action,
    target: entry.target,
    source_ip: entry.sourceIp,
    request_id: entry.requestId,
    detail: JSON.stringify(entry.detail ?? {}),
  };
}

export async function appendAudit(db: Database, entry: AuditEntry): Promise<void> {
  await db('audit_log').insert(auditColumns(entry));
}

export interface AuditFilter {
  readonly from?: Date;
  readonly to?: Date;
  readonly actor?: string;
  readonly action?: string;
  readonly organisationId?: string;
  readonly afterId?: string;
  readonly limit: number;
}

export async function listAudit(db: Database, filter: AuditFilter): Promise<AuditRecord[]> {
  const query = db('audit_log').orderBy('id', 'asc').limit(filter.limit);
  if (filter.from) query.where('at', '>=', filter.from);
  if (filter.to) query.where('at', '<', filter.to);
  if (filter.actor) query.where('actor', filter.actor);
  if (filter.action) query.where('action', filter.action);
  if (filter.organisationId) query.where('organisation_id', filter.organisationId);
  if (filter.afterId) query.where('id', '>', filter.afterId);
  const rows = await query;
  return rows.map((row) => ({
    id: String(row.id),
    at: row.at,
    organisationId: row.organisation_id,
    clientId: row.client_id,
    actor: row.actor,
    action: row.action,
    target: row.target,
    sourceIp: row.source_ip,
    requestId: row.request_id,
    detail: row.detail,
  }));
}
