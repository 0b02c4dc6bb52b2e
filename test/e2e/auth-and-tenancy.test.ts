import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { startTestKassa, type TestKassa } from '../support/kassa.ts';
import { apiClient, benefitOrder } from '../support/http.ts';
import { assertNothingWritten, assertProblem, feeOrder } from './helpers.ts';

type Api = ReturnType<typeof apiClient>;

describe('authentication, scopes and tenancy (e2e, postgres queues)', () => {
  let kassa: TestKassa;
  let adminA: Api;
  let writerA: Api;
  let writerB: Api;
  before(async () => {
    kassa = await startTestKassa({ backend: 'postgres', workers: false, env: { AUTH_CACHE_TTL_MS: '0' } });
    adminA = apiClient(kassa.url, await kassa.issueKey('org-a', ['admin']));
    writerA = apiClient(kassa.url, await kassa.issueKey('org-a', ['fees:write', 'benefits:write', 'orders:read']));
    writerB = apiClient(kassa.url, await kassa.issueKey('org-b', ['fees:write', 'benefits:write', 'orders:read']));
  });
  after(async () => kassa?.stop());

  describe('authentication', () => {
    it('when no Authorization header is sent, then 401 unauthorised problem and nothing is written', async () => {
      const anonymous = apiClient(kassa.url);
      const response = await assertNothingWritten(kassa.runtime.context.db, () => anonymous.post('/v1/orders', benefitOrder(), randomUUID()));
      assertProblem(response, 401, 'unauthorised');
      assertProblem(await anonymous.get('/v1/orders'), 401, 'unauthorised');
    });

    it('when the Authorization header is not a bearer key, then 401', async () => {
      const response = await apiClient(kassa.url).get('/v1/orders', { authorization: 'Basic dXNlcjpwYXNz' });
      assertProblem(response, 401, 'unauthorised');
    });

    it('when the key is unknown, then 401', async () => {
      const stranger = apiClient(kassa.url, 'kassa_thisKeyWasNeverIssuedByAnyoneAtAllxxxxxxxx');
      const response = await assertNothingWritten(kassa.runtime.context.db, () => stranger.post('/v1/orders', benefitOrder(), randomUUID()));
      assertProblem(response, 401, 'unauthorised');
    });

    it('when a key is revoked by an admin, then it gets 401 from then on and the revocation is audited', async () => {
      const created = await adminA.post('/v1/clients', { name: 'soon revoked', scopes: ['orders:read'] }, randomUUID());
      assert.equal(created.status, 201);
      const doomed = apiClient(kassa.url, created.body.api_key);
      assert.equal((await doomed.get('/v1/orders')).status, 200);

      const revoked = await adminA.post(`/v1/clients/${created.body.id}/revoke`, undefined, randomUUID());
      assert.equal(revoked.status, 200);
      assert.deepEqual(revoked.body, { id: created.body.id, revoked: true });
      assertProblem(await doomed.get('/v1/orders'), 401, 'unauthorised');

      const listed = await adminA.get('/v1/clients');
      const entry = listed.body.data.find((client: { id: string }) => client.id === created.body.id);
      assert.ok(entry.revoked_at, 'the list shows when it was revoked');
      assert.equal((await kassa.runtime.context.db('audit_log').where({ action: 'api_client.revoke', target: created.body.id })).length, 1);
    });

    it('when an admin revokes a client of another organisation, then 404 and the key keeps working', async () => {
      const otherAdmin = apiClient(kassa.url, await kassa.issueKey('org-b', ['admin']));
      const created = await otherAdmin.post('/v1/clients', { name: 'b reader', scopes: ['orders:read'] }, randomUUID());
      const response = await assertNothingWritten(kassa.runtime.context.db, () => adminA.post(`/v1/clients/${created.body.id}/revoke`, undefined, randomUUID()), ['api_clients', 'audit_log']);
      assertProblem(response, 404, 'not_found');
      assert.equal((await apiClient(kassa.url, created.body.api_key).get('/v1/orders')).status, 200);
    });
  });

  describe('scopes', () => {
    it('when an orders:read-only key posts a benefit, then 403 insufficient_scope and nothing is written', async () => {
      const reader = apiClient(kassa.url, await kassa.issueKey('org-a', ['orders:read']));
      const response = await assertNothingWritten(kassa.runtime.context.db, () => reader.post('/v1/orders', benefitOrder(), randomUUID()));
      assertProblem(response, 403, 'insufficient_scope');
    });

    it('when a fees:write key posts a benefit, then 403 and nothing is written', async () => {
      const cashier = apiClient(kassa.url, await kassa.issueKey('org-a', ['fees:write']));
      const response = await assertNothingWritten(kassa.runtime.context.db, () => cashier.post('/v1/orders', benefitOrder(), randomUUID()));
      assertProblem(response, 403, 'insufficient_scope');
      assert.equal((await cashier.post('/v1/orders', feeOrder(), randomUUID())).status, 201, 'the same key may post a fee');
    });

    it('when a benefits:write key posts a fee, then 403 and nothing is written', async () => {
      const disburser = apiClient(kassa.url, await kassa.issueKey('org-a', ['benefits:write']));
      const response = await assertNothingWritten(kassa.runtime.context.db, () => disburser.post('/v1/orders', feeOrder(), randomUUID()));
      assertProblem(response, 403, 'insufficient_scope');
    });

    it('when a key without orders:read reads orders, then 403', async () => {
      const cashier = apiClient(kassa.url, await kassa.issueKey('org-a', ['fees:write']));
      assertProblem(await cashier.get('/v1/orders'), 403, 'insufficient_scope');
      const created = await writerA.post('/v1/orders', feeOrder(), randomUUID());
      assertProblem(await cashier.get(`/v1/orders/${created.body.id}`), 403, 'insufficient_scope');
    });

    it('when a fees:write key cancels a benefit of its own organisation, then 403 and the order is untouched', async () => {
      const created = await writerA.post('/v1/orders', benefitOrder(), randomUUID());
      const cashier = apiClient(kassa.url, await kassa.issueKey('org-a', ['fees:write']));
      const response = await assertNothingWritten(kassa.runtime.context.db, () => cashier.post(`/v1/orders/${created.body.id}/cancel`, undefined, randomUUID()));
      assertProblem(response, 403, 'insufficient_scope');
      assert.equal((await writerA.get(`/v1/orders/${created.body.id}`)).body.status, 'received');
    });

    it('when a non-admin calls an admin endpoint, then 403 insufficient_scope', async () => {
      assertProblem(await writerA.get('/v1/audit'), 403, 'insufficient_scope');
      assertProblem(await writerA.get('/v1/clients'), 403, 'insufficient_scope');
      assertProblem(await writerA.get('/v1/webhook-endpoint'), 403, 'insufficient_scope');
      const db = kassa.runtime.context.db;
      const tables = ['api_clients', 'webhook_endpoints', 'audit_log', 'idempotency_keys'];
      assertProblem(await assertNothingWritten(db, () => writerA.post('/v1/clients', { name: 'sneaky', scopes: ['admin'] }, randomUUID()), tables), 403, 'insufficient_scope');
      assertProblem(await assertNothingWritten(db, () => writerA.post('/v1/webhook-endpoint', { url: 'https://evil.example.org/' }, randomUUID()), tables), 403, 'insufficient_scope');
      const victim = await adminA.post('/v1/clients', { name: 'victim', scopes: ['orders:read'] }, randomUUID());
      assertProblem(await assertNothingWritten(db, () => writerA.post(`/v1/clients/${victim.body.id}/revoke`, undefined, randomUUID()), tables), 403, 'insufficient_scope');
    });
  });

  describe('tenancy', () => {
    let orderOfB: string;
    before(async () => {
      const created = await writerB.post('/v1/orders', benefitOrder({ reference: 'org b private' }), randomUUID());
      assert.equal(created.status, 201);
      orderOfB = created.body.id;
    });

    it("when org A reads org B's order, then 404 as if it did not exist", async () => {
      assertProblem(await writerA.get(`/v1/orders/${orderOfB}`), 404, 'not_found');
      assertProblem(await adminA.get(`/v1/orders/${orderOfB}`), 404, 'not_found');
      assert.equal((await writerB.get(`/v1/orders/${orderOfB}`)).status, 200);
    });

    it("when org A lists orders, then org B's orders never appear, in any page or filter", async () => {
      for (const query of ['', '?kind=benefit', '?status=received', '?limit=1']) {
        let cursor: string | null = null;
        let pages = 0;
        do {
          const separator = query ? '&' : '?';
          const response = await writerA.get(`/v1/orders${query}${cursor ? `${separator}cursor=${encodeURIComponent(cursor)}` : ''}`);
          assert.equal(response.status, 200);
          for (const order of response.body.data as { id: string; reference: string }[]) {
            assert.notEqual(order.id, orderOfB);
            assert.notEqual(order.reference, 'org b private');
          }
          cursor = response.body.next_cursor;
          pages += 1;
        } while (cursor && pages < 50);
      }
      const own = await writerB.get('/v1/orders');
      assert.ok(own.body.data.some((order: { id: string }) => order.id === orderOfB));
    });

    it("when org A cancels org B's order, then 404 and the order is not cancelled", async () => {
      const response = await assertNothingWritten(kassa.runtime.context.db, () => adminA.post(`/v1/orders/${orderOfB}/cancel`, undefined, randomUUID()));
      assertProblem(response, 404, 'not_found');
      assert.equal((await writerB.get(`/v1/orders/${orderOfB}`)).body.status, 'received');
    });

    it("when org A's admin lists clients or the audit log, then nothing of org B appears", async () => {
      const clients = await adminA.get('/v1/clients');
      assert.equal(clients.status, 200);
      const orgB = (await kassa.runtime.context.db('organisations').where({ name: 'org-b' }).first()).id;
      const idsOfB = new Set((await kassa.runtime.context.db('api_clients').where({ organisation_id: orgB })).map((row: { id: string }) => row.id));
      assert.ok(idsOfB.size > 0);
      for (const client of clients.body.data) assert.ok(!idsOfB.has(client.id));
      const audit = await adminA.get('/v1/audit?limit=200');
      assert.equal(audit.status, 200);
      for (const record of audit.body.data) assert.notEqual(record.target, orderOfB);
    });
  });

  describe('credentials issued over HTTP', () => {
    it('when an admin creates a client, then the key works, is shown once, and is never stored in clear', async () => {
      const key = randomUUID();
      const created = await adminA.post('/v1/clients', { name: 'benefit clerk', scopes: ['benefits:write', 'orders:read'] }, key);
      assert.equal(created.status, 201);
      assert.deepEqual(created.body.scopes, ['benefits:write', 'orders:read']);
      assert.equal(created.body.name, 'benefit clerk');
      const apiKey: string = created.body.api_key;
      assert.match(apiKey, /^kassa_\S{20,}$/);

      const clerk = apiClient(kassa.url, apiKey);
      const order = await clerk.post('/v1/orders', benefitOrder(), randomUUID());
      assert.equal(order.status, 201);
      assertProblem(await clerk.post('/v1/orders', feeOrder(), randomUUID()), 403, 'insufficient_scope');
      const audit = await kassa.runtime.context.db('audit_log').where({ action: 'order.create', target: order.body.id }).first();
      assert.equal(audit.client_id, created.body.id);

      const replay = await adminA.post('/v1/clients', { name: 'benefit clerk', scopes: ['benefits:write', 'orders:read'] }, key);
      assert.equal(replay.status, 201);
      assert.equal(replay.headers.get('idempotent-replayed'), 'true');
      assert.equal(replay.body.id, created.body.id);
      assert.ok(!JSON.stringify(replay.body).includes(apiKey), 'a replay never shows the key again');
      assert.equal(replay.body.api_key, null);

      const db = kassa.runtime.context.db;
      const stored = await db('idempotency_keys').where({ key }).first();
      assert.ok(stored);
      assert.ok(!JSON.stringify(stored.response_body).includes(apiKey), 'the idempotency record never holds the key');
      const row = await db('api_clients').where({ id: created.body.id }).first();
      assert.equal(row.key_hash, createHash('sha256').update(apiKey).digest('hex'));
      const dump = JSON.stringify((await db.raw('SELECT to_jsonb(c) AS r FROM api_clients c')).rows);
      assert.ok(!dump.includes(apiKey));
      const listed = await adminA.get('/v1/clients');
      assert.ok(!JSON.stringify(listed.body).includes(apiKey));
      assert.ok(!JSON.stringify(await adminA.get('/v1/audit?action=api_client.create&limit=200')).includes(apiKey));
    });

    it('when a client is created with an unknown scope or no scopes, then 422 and no client is written', async () => {
      const db = kassa.runtime.context.db;
      for (const body of [{ name: 'x', scopes: ['root'] }, { name: 'x', scopes: [] }, { name: '', scopes: ['orders:read'] }, { name: 'x', scopes: ['orders:read'], org: 'org-b' }]) {
        const response = await assertNothingWritten(db, () => adminA.post('/v1/clients', body, randomUUID()), ['api_clients', 'audit_log', 'idempotency_keys']);
        assertProblem(response, 422, 'validation_failed');
      }
    });
  });
});

describe('per-credential rate limit (e2e, postgres queues)', () => {
  let kassa: TestKassa;
  before(async () => {
    kassa = await startTestKassa({ backend: 'postgres', workers: false, env: { RATE_LIMIT_PER_MINUTE: '5' } });
  });
  after(async () => kassa?.stop());

  it('when a credential makes a 6th request within the minute, then 429 with Retry-After, and another credential is unaffected', async () => {
    const busy = apiClient(kassa.url, await kassa.issueKey('org-a', ['orders:read', 'benefits:write']));
    const calm = apiClient(kassa.url, await kassa.issueKey('org-a', ['orders:read']));
    for (let index = 0; index < 5; index += 1) assert.equal((await busy.get('/v1/orders')).status, 200, `request ${index + 1} is within the limit`);
    const limited = await assertNothingWritten(kassa.runtime.context.db, () => busy.post('/v1/orders', benefitOrder(), randomUUID()));
    assertProblem(limited, 429, 'rate_limited');
    const retryAfter = Number(limited.headers.get('retry-after'));
    assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60, `Retry-After is ${limited.headers.get('retry-after')}`);
    assertProblem(await busy.get('/v1/orders'), 429, 'rate_limited');
    assert.equal((await calm.get('/v1/orders')).status, 200);
  });
});
