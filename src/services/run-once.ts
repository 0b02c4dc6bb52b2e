import { claimIdempotencyKey, completeIdempotencyKey, findIdempotentResponse } from '../db/repositories/idempotency-keys.ts';
import type { Database } from '../db/knex.ts';
import { replayable, type Idempotency } from './idempotent-replay.ts';

/**
 * Runs `work` the first time a key is seen and remembers its result with it, all in one transaction: a repeat
 * of the same request gets that result back without running again, a different request under the key a
 * conflict. A repeat sent while the first is still running waits on the key's row for it to commit or roll
 * back, so a key is never left claimed by work that did not happen.
 */
export async function runOnce<T>(db: Database, organisationId: string, idempotency: Idempotency, work: (trx: Database) => Promise<T>): Promise<{ result: T; replayed: boolean }> {
  return db.transaction(async (trx) => {
    if (!(await claimIdempotencyKey(trx, organisationId, idempotency.key, idempotency.requestHash))) {
      const replay = replayable(await findIdempotentResponse(trx, organisationId, idempotency.key), idempotency);
      return { result: replay.body as T, replayed: true };
    }
    const result = await work(trx);
    await completeIdempotencyKey(trx, organisationId, idempotency.key, { status: 200, body: result });
    return { result, replayed: false };
  });
}
