import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { apiClient } from './http.ts';
import { eventually, startTestKassa, type TestKassa } from './kassa.ts';
import { startPushReceiver, type PushReceiver } from './push-receiver.ts';

// What the GovStack bulk payment suites (v3 and legacy) share: the ids and phone numbers they make up, a Kassa
// with programs to pay batches from, and the wait for a batch's final callback.

type Api = ReturnType<typeof apiClient>;

/** GovStack RequestIDs (and legacy BatchIDs) are 12 characters. */
export const newRequestId = () => randomBytes(6).toString('hex');
/** The legacy API wants payee functional IDs of exactly 20 characters; v3 takes up to 20. */
export const newFunctionalId = () => randomBytes(10).toString('hex');

let phoneCounter = 100;
/** A fresh MSISDN the sandbox pays; `ending` picks its answer instead (0000 declined AC04, 0001 declined AM04). */
export function msisdn(ending?: string): string {
  phoneCounter += 1;
  const phone = `+2547${String(Math.floor(Math.random() * 1e4)).padStart(4, '0')}${String(phoneCounter).padStart(4, '0')}`;
  return ending ? `${phone.slice(0, -4)}${ending}` : phone;
}

/** The account every program of these suites is funded from. */
export const PROGRAM_FUNDING = { type: 'iban', value: 'GB82WEST12345698765432' };

export interface GovStackKassa {
  readonly kassa: TestKassa;
  /** Where batch callbacks go; a push is keyed by its batchId, else by its `requestIdField`. */
  readonly receiver: PushReceiver;
  /** The organisation the suite pays for, allowed to write benefits. */
  readonly agency: Api;
  /** Another organisation, which must see nothing of the agency's. */
  readonly stranger: Api;
}

/**
 * A Kassa on postgres queues that chunks batches small and measures them often, so batches finish within a test,
 * with the agency's programs (KES, funded from PROGRAM_FUNDING) created, and a receiver for the callbacks.
 */
export async function startGovStackKassa(options: {
  readonly callbackPath: string;
  /** The field that names a push about no batch: a registration's or a validation's request id. */
  readonly requestIdField: string;
  readonly organisations: { readonly agency: string; readonly stranger: string };
  /** Each a program to create, without its currency and funding account. */
  readonly programs: readonly Record<string, unknown>[];
}): Promise<GovStackKassa> {
  const receiver = await startPushReceiver({
    path: options.callbackPath,
    keysOf: ({ text }) => {
      const body = JSON.parse(text) as Record<string, string | undefined>;
      return [body.batchId ?? body[options.requestIdField] ?? ''];
    },
  });
  let kassa: TestKassa | undefined;
  try {
    kassa = await startTestKassa({ backend: 'postgres', env: { BATCH_MONITOR_MS: '200', BATCH_CHUNK_ROWS: '50' } });
    const admin = apiClient(kassa.url, await kassa.issueKey(options.organisations.agency, ['admin']));
    const agency = apiClient(kassa.url, await kassa.issueKey(options.organisations.agency, ['benefits:write']));
    const stranger = apiClient(kassa.url, await kassa.issueKey(options.organisations.stranger, ['benefits:write']));
    for (const program of options.programs) {
      const created = await admin.post('/v1/programs', { currency: 'KES', funding_account: PROGRAM_FUNDING, ...program }, randomUUID());
      assert.equal(created.status, 201, JSON.stringify(created.body));
    }
    return { kassa, receiver, agency, stranger };
  } catch (error) {
    // The suite's `after` only stops what `before` handed it.
    await kassa?.stop();
    await receiver.close();
    throw error;
  }
}

/** The last status the batch's callback was told, once it says nothing is ongoing any more. */
export async function finalPush(receiver: PushReceiver, batchId: string, timeoutMs = 30_000) {
  return eventually(async () => {
    const done = receiver.about(batchId).find((push) => JSON.parse(push.text).note === 'batch completed');
    return done && { push: done, body: JSON.parse(done.text) };
  }, { what: `the final status of batch ${batchId}`, timeoutMs });
}
