import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { verifyWebhook } from '../../src/domain/webhook-signature.ts';
import { ensureOrganisation } from '../../src/db/repositories/api-clients.ts';
import { insertCallbackDelivery } from '../../src/db/repositories/callback-deliveries.ts';
import { setWebhookEndpoint } from '../../src/db/repositories/webhooks.ts';
import { queueCallback } from '../../src/services/queue-callback.ts';
import { eventually, startTestKassa, type TestKassa } from '../support/kassa.ts';
import { startPushReceiver, type PushReceiver } from '../support/push-receiver.ts';

describe('callback outbox (postgres queues, workers running)', () => {
  let kassa: TestKassa;
  let receiver: PushReceiver;
  let organisationId: string;
  const db = () => kassa.runtime.context.db;

  before(async () => {
    receiver = await startPushReceiver({ path: '/govstack/callback', keysOf: ({ text }) => [JSON.parse(text).ref as string] });
    kassa = await startTestKassa({ backend: 'postgres' });
    organisationId = await ensureOrganisation(db(), 'callback-outbox');
  });
  after(async () => {
    await kassa?.stop();
    await receiver?.close();
  });

  const callback = (ref: string, dedupeKey = ref) => ({ organisationId, url: receiver.url, eventType: 'test.result', body: { ref, numberFailedCases: 0 }, dedupeKey });
  const deliveryOf = (id: string) => db()('callback_deliveries').where({ id }).first();
  const deliveredRow = (id: string) => eventually(async () => {
    const row = await deliveryOf(id);
    return row?.status === 'delivered' ? row : undefined;
  }, { what: `callback ${id} to be delivered` });

  it('when a callback is queued, then the receiver gets its body once as JSON and the delivery is recorded as delivered', async () => {
    const ref = randomUUID();
    const deliveryId = await queueCallback(kassa.runtime.context, callback(ref));
    assert.ok(deliveryId);
    const [push] = await receiver.waitFor(ref);
    assert.deepEqual(JSON.parse(push!.text), { ref, numberFailedCases: 0 });
    assert.match(String(push!.headers['content-type']), /^application\/json/);
    assert.equal(push!.headers['kassa-event'], 'test.result');
    assert.equal(push!.headers['kassa-delivery'], deliveryId);
    assert.equal(push!.headers['kassa-signature'], undefined, 'unsigned while the organisation has no webhook secret');
    const row = await deliveredRow(deliveryId);
    assert.equal(row.attempts, 1);
    assert.equal(row.last_status, 204);
    assert.ok(row.delivered_at instanceof Date);
    await sleep(300);
    assert.equal(receiver.about(ref).length, 1);
  });

  it('when the receiver answers 500 and then 200, then the callback is sent again after a backoff and delivered on the second attempt', async () => {
    const ref = randomUUID();
    receiver.answer = (key, attempt) => (key === ref && attempt === 0 ? 500 : 200);
    try {
      const deliveryId = await queueCallback(kassa.runtime.context, callback(ref));
      const pushes = await receiver.waitFor(ref, 2);
      assert.equal(pushes[0]!.text, pushes[1]!.text, 'the retry sends the same body');
      const row = await deliveredRow(deliveryId!);
      assert.equal(row.attempts, 2);
      assert.equal(row.last_status, 200);
      assert.equal(row.last_error, null);
    } finally {
      receiver.answer = () => 204;
    }
  });

  it('when the same dedupe key is queued twice, then one delivery is saved and the receiver gets it once', async () => {
    const ref = randomUUID();
    const first = await queueCallback(kassa.runtime.context, callback(ref, `dedupe ${ref}`));
    const second = await queueCallback(kassa.runtime.context, { ...callback(ref, `dedupe ${ref}`), body: { ref, numberFailedCases: 9 } });
    assert.ok(first);
    assert.equal(second, undefined);
    await deliveredRow(first);
    await sleep(300);
    assert.equal(receiver.about(ref).length, 1);
    assert.equal(JSON.parse(receiver.about(ref)[0]!.text).numberFailedCases, 0, 'the first body is the one sent');
    assert.equal((await db()('callback_deliveries').where({ organisation_id: organisationId, dedupe_key: `dedupe ${ref}` })).length, 1);
  });

  it('when the organisation has a webhook endpoint, then the callback is signed with its secret like a webhook', async () => {
    const signedOrganisation = await ensureOrganisation(db(), 'callback-outbox-signed');
    const secret = `whsec_${randomUUID()}`;
    await setWebhookEndpoint(db(), signedOrganisation, 'https://agency.example/hooks', secret);
    const ref = randomUUID();
    await queueCallback(kassa.runtime.context, { ...callback(ref), organisationId: signedOrganisation });
    const [push] = await receiver.waitFor(ref);
    const signature = push!.headers['kassa-signature'] as string;
    assert.match(signature, /^t=\d+,v1=[0-9a-f]{64}$/);
    assert.ok(verifyWebhook(secret, push!.text, signature, Math.floor(Date.now() / 1000)));
    assert.ok(!verifyWebhook(`${secret}x`, push!.text, signature, Math.floor(Date.now() / 1000)));
  });

  it('when queued inside a transaction, then nothing is sent before the commit and the callback follows it', async () => {
    const ref = randomUUID();
    let deliveryId: string | undefined;
    await db().transaction(async (trx) => {
      deliveryId = await queueCallback(kassa.runtime.context, callback(ref), trx);
      await sleep(300);
      assert.equal(await kassa.runtime.context.queues.queue('callbacks').getJob(`callback-${deliveryId}`), undefined, 'no job while the row is uncommitted');
      assert.equal(receiver.about(ref).length, 0, 'nothing is sent while the transaction is open');
    });
    await receiver.waitFor(ref);
    await deliveredRow(deliveryId!);
  });

  it('when the transaction it was queued in rolls back, then nothing is saved or sent', async () => {
    const ref = randomUUID();
    await assert.rejects(db().transaction(async (trx) => {
      await queueCallback(kassa.runtime.context, callback(ref), trx);
      throw new Error('the caller changed its mind');
    }), /changed its mind/);
    await sleep(500);
    assert.equal(receiver.about(ref).length, 0);
    assert.equal((await db()('callback_deliveries').where({ organisation_id: organisationId, dedupe_key: ref })).length, 0);
  });

  it('when a saved callback has no job (the queues were wiped), then the sweeper queues it again once overdue and it is delivered', async () => {
    const ref = randomUUID();
    const deliveryId = await insertCallbackDelivery(db(), callback(ref));
    const [push] = await receiver.waitFor(ref, 1, 10_000);
    assert.equal(push!.headers['kassa-delivery'], deliveryId);
    const row = await deliveredRow(deliveryId!);
    assert.equal(row.attempts, 1);
  });
});
