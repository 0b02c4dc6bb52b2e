import { randomUUID } from 'node:crypto';
import { conflict } from '../domain/errors.ts';
import { appendAudit, type AuditEntry } from '../db/repositories/audit-log.ts';
import { claimBillerPrefixes, findBiller, insertBiller, type Biller } from '../db/repositories/billers.ts';
import type { Database } from '../db/knex.ts';

export type BillerRequest = Pick<Biller, 'code' | 'name' | 'currency' | 'account' | 'billSourceUrl' | 'prefixes'>;

/** Registers a biller of the organisation with its bill-ID prefixes and bill source (GovStack's biller onboarding). */
export async function registerBiller(db: Database, organisationId: string, request: BillerRequest, actor: Omit<AuditEntry, 'action' | 'target' | 'organisationId' | 'detail'>): Promise<Biller> {
  return db.transaction(async (trx) => {
    const id = randomUUID();
    const { prefixes, ...biller } = request;
    if (!(await insertBiller(trx, { id, organisationId, ...biller }))) throw conflict('biller_exists', `the biller code ${request.code} is taken`);
    const taken = await claimBillerPrefixes(trx, id, prefixes);
    if (taken.length > 0) {
      throw conflict('bill_prefix_taken', `another biller's bill IDs start with ${taken.join(', ')}; a prefix may neither equal, start nor extend another biller's`);
    }
    await appendAudit(trx, {
      ...actor, organisationId, action: 'biller.register', target: id,
      detail: { code: request.code, currency: request.currency, prefixes: [...prefixes], bill_source_url: request.billSourceUrl },
    });
    return (await findBiller(trx, organisationId, id))!;
  });
}
