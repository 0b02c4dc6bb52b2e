import { claimIdempotencyKey, completeIdempotencyKey, findIdempotentResponse, releaseIdempotencyKey } from '../db/repositories/idempotency-keys.ts';
import type { Database } from '../db/knex.ts';
import { replayable, type Idempotency } from './idempotent-replay.ts';

/**
 * Runs `work` in one transaction the first time a key is seen and remembers its result with it; a repeat of the
 * same request gets that result back without running again, a different request under the key a conflict.
 */
export async function runOnce<T>(db: Database, organisationId: string, idempotency: Idempotency, work: (trx: Database) => Promise<T>): Promise<{ result: T; replayed: boolean }> {
  if (!(await claimIdempotencyKey(db, organisationId, idempotency.key, idempotency.requestHash))) {
    const replay = replayable(await findIdempotentResponse(db, organisationId, idempotency.key), idempotency);
    return { result: replay.body as T, replayed: true };
  }
  try {
    const result = await db.transaction(async (trx) => {
      const value = await work(trx);
      await completeIdempotencyKey(trx, organisationId, idempotency.key, { status: 200, body: value });
      return value;
    });
    return { result, replayed: false };
  } catch (error) {
    await releaseIdempotencyKey(db, organisationId, idempotency.key);
    throw error;
  }
}
