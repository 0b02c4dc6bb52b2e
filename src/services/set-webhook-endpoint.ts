import { randomBytes } from 'node:crypto';
import type { Caller, RequestOrigin } from '../domain/caller.ts';
import { appendAudit } from '../db/repositories/audit-log.ts';
import { setWebhookEndpoint } from '../db/repositories/webhooks.ts';
import type { Database } from '../db/knex.ts';

/** Sets where the organisation's events go and issues a fresh signing secret, shown once. */
export async function configureWebhookEndpoint(db: Database, caller: Caller, origin: RequestOrigin, url: string): Promise<{ url: string; secret: string }> {
  const secret = `whsec_${randomBytes(32).toString('base64url')}`;
  await db.transaction(async (trx) => {
    await setWebhookEndpoint(trx, caller.organisationId, url, secret);
    await appendAudit(trx, {
      organisationId: caller.organisationId, clientId: caller.clientId, actor: caller.clientName, action: 'webhook_endpoint.set',
      target: caller.organisationId, sourceIp: origin.sourceIp, requestId: origin.requestId, detail: { url },
    });
  });
  return { url, secret };
}
