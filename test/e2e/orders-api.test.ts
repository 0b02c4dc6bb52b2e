import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { eventually, startTestKassa, type TestKassa } from '../support/kassa.ts';
import { apiClient, benefitOrder } from '../support/http.ts';
import { assertInvalidFields, assertNothingWritten, assertProblem, feeOrder, rowCounts, sleep } from './helpers.ts';

type Api = ReturnType<typeof apiClient>;

describe('POST /v1/orders (e2e, postgres queues, workers stopped)', () => {
  let kassa: TestKassa;
  let fees: Api;
  let benefits: Api;
  let admin: Api;
  before(async () => {
    kassa = await startTestKassa({ backend: 'postgres', workers: false });
    fees = apiClient(kassa.url, await kassa.issueKey('county-registry', ['fees:write', 'orders:read']));
    benefits = apiClient(kassa.url, await kassa.issueKey('social-protection', ['benefits:write', 'orders:read']));
    admin = apiClient(kassa.url, await kassa.issueKey('social-protection', ['admin']));
  });
  after(async () => kassa?.stop());

  describe('happy paths', () => {
    it('when a fee client posts a fee of "125.5" KES, then it answers 201 with the order and stores 12550 minor units', async () => {
      const key = randomUUID();
      const request = feeOrder({ callback_url: 'https://county.example.org/hooks/kassa', metadata: { case: 'A-17', tags: ['x'] } });
      const created = await fees.post('/v1/orders', request, key);
      assert.equal(created.status, 201);
      assert.match(created.contentType, /^application\/json/);
      const body = created.body;
      assert.match(body.id, /^[0-9a-f-]{36}$/);
      assert.equal(body.kind, 'fee');
      assert.equal(body.status, 'received');
      assert.equal(body.amount, '125.50');
      assert.equal(body.amount_minor, '12550');
      assert.equal(body.currency, 'KES');
      assert.deepEqual(body.payer, request.payer);
      assert.deepEqual(body.payee, request.payee);
      assert.equal(body.reference, request.reference);
      assert.equal(body.callback_url, 'https://county.example.org/hooks/kassa');
      assert.deepEqual(body.metadata, { case: 'A-17', tags: ['x'] });
      assert.equal(body.rail, 'sandbox');
      assert.equal(body.rail_reference, null);
      assert.equal(body.failure, null);
      assert.ok(!Number.isNaN(Date.parse(body.created_at)));
      assert.ok(!Number.isNaN(Date.parse(body.updated_at)));
      assert.deepEqual(body.events.map((event: { from: unknown; to: string }) => [event.from, event.to]), [[null, 'received']]);

      const db = kassa.runtime.context.db;
      const row = await db('orders').where({ id: body.id }).first();
      assert.equal(String(row.amount_minor), '12550');
      assert.equal(row.currency.trim(), 'KES');
      assert.equal(row.kind, 'fee');
      assert.equal(row.status, 'received');
      assert.equal((await db('order_events').where({ order_id: body.id })).length, 1);
      assert.equal((await db('outbox').where({ order_id: body.id })).length, 1);
      assert.equal((await db('idempotency_keys').where({ key })).length, 1);
      const audit = await db('audit_log').where({ action: 'order.create', target: body.id });
      assert.equal(audit.length, 1);
    });

    it('when a benefits client posts a benefit, then it answers 201 and the order reads back the same', async () => {
      const created = await benefits.post('/v1/orders', benefitOrder({ amount: '25' }), randomUUID());
      assert.equal(created.status, 201);
      assert.equal(created.body.kind, 'benefit');
      assert.equal(created.body.amount, '25.00');
      assert.equal(created.body.amount_minor, '2500');
      const read = await benefits.get(`/v1/orders/${created.body.id}`);
      assert.equal(read.status, 200);
      assert.equal(read.body.id, created.body.id);
      assert.equal(read.body.amount_minor, '2500');
    });

    it('when the currency has no decimals (JPY), then "5000" is stored as 5000 minor units', async () => {
      const created = await fees.post('/v1/orders', feeOrder({ amount: '5000', currency: 'JPY' }), randomUUID());
      assert.equal(created.status, 201);
      assert.equal(created.body.amount, '5000');
      assert.equal(created.body.amount_minor, '5000');
      assert.equal(created.body.currency, 'JPY');
      const row = await kassa.runtime.context.db('orders').where({ id: created.body.id }).first();
      assert.equal(String(row.amount_minor), '5000');
    });

    it('when the currency has three decimals (BHD), then "1.005" is stored as 1005 minor units', async () => {
      const created = await fees.post('/v1/orders', feeOrder({ amount: '1.005', currency: 'BHD' }), randomUUID());
      assert.equal(created.status, 201);
      assert.equal(created.body.amount_minor, '1005');
      assert.equal(created.body.amount, '1.005');
    });
  });

  describe('bad input is refused with problem+json and writes nothing', () => {
    const refused = async (api: Api, body: unknown, idempotencyKey: string | null = randomUUID()) =>
      assertNothingWritten(kassa.runtime.context.db, () => api.post('/v1/orders', body, idempotencyKey ?? undefined));

    it('when the amount has more decimals than the currency (KES 1.005), then 422 names body.amount', async () => {
      const response = await refused(fees, feeOrder({ amount: '1.005' }));
      assertInvalidFields(response, ['body.amount']);
      assert.match(response.body.errors[0].reason, /decimal/);
    });

    it('when a JPY amount has any decimals, then 422 names body.amount', async () => {
      assertInvalidFields(await refused(fees, feeOrder({ amount: '10.5', currency: 'JPY' })), ['body.amount']);
    });

    it('when the amount is zero ("0" or "0.00"), then 422 names body.amount', async () => {
      assertInvalidFields(await refused(fees, feeOrder({ amount: '0' })), ['body.amount']);
      assertInvalidFields(await refused(fees, feeOrder({ amount: '0.00' })), ['body.amount']);
    });

    it('when the amount is negative, then 422 names body.amount', async () => {
      assertInvalidFields(await refused(fees, feeOrder({ amount: '-10.00' })), ['body.amount']);
    });

    it('when the amount is not numeric (text, a JSON number, exponent, blank), then 422 names body.amount', async () => {
      for (const amount of ['ten', '1e3', '12,50', '', ' 12.50', '.5', 125.5]) {
        assertInvalidFields(await refused(fees, feeOrder({ amount })), ['body.amount']);
      }
    });

    it('when the currency is unknown or not a code, then 422 names body.currency', async () => {
      for (const currency of ['XYZ', 'kes', 'KESH', '']) {
        assertInvalidFields(await refused(fees, feeOrder({ currency })), ['body.currency']);
      }
    });

    // ISO 4217 codes whose minor unit is "N.A." name no money, whatever digits a code list gives them.
    it('when the currency is an ISO 4217 code that is not money (XXX no currency, XTS testing), then 422 names body.currency', async () => {
      for (const currency of ['XXX', 'XTS']) {
        assertInvalidFields(await refused(fees, feeOrder({ amount: '5', currency })), ['body.currency']);
      }
    });

    it('when several required fields are missing, then one 422 reports every one of them', async () => {
      const response = await refused(fees, { kind: 'fee', payer: { type: 'msisdn', value: '+254711000111' } });
      assertInvalidFields(response, ['body.amount', 'body.currency', 'body.payee', 'body.reference']);
    });

    it('when the body is empty, then every required field is reported', async () => {
      assertInvalidFields(await refused(fees, {}), ['body.kind', 'body.amount', 'body.currency', 'body.payer', 'body.payee', 'body.reference']);
    });

    it('when the body carries an unknown field, then 422 names that field', async () => {
      assertInvalidFields(await refused(fees, feeOrder({ priority: 'high' })), ['body.priority']);
    });

    it('when a party carries an unknown field, then 422 names it inside the party', async () => {
      assertInvalidFields(await refused(fees, feeOrder({ payer: { type: 'msisdn', value: '+254711000111', nickname: 'me' } })), ['body.payer.nickname']);
    });

    it('when the kind is not fee or benefit, then 422 names body.kind', async () => {
      assertInvalidFields(await refused(fees, feeOrder({ kind: 'refund' })), ['body.kind']);
    });

    it('when a party type is not one of msisdn|iban|bank_account|functional_id|card, then 422 names body.payee.type', async () => {
      assertInvalidFields(await refused(fees, feeOrder({ payee: { type: 'paypal', value: 'someone' } })), ['body.payee.type']);
    });

    it('when a msisdn is not an E.164 number, then 422 names the party value', async () => {
      for (const value of ['0712345678x', '+0712345678', '12', 'call me']) {
        assertInvalidFields(await refused(benefits, benefitOrder({ payee: { type: 'msisdn', value } })), ['body.payee.value']);
      }
    });

    it('when an IBAN has a wrong checksum, then 422 names the party value and says so', async () => {
      const response = await refused(fees, feeOrder({ payee: { type: 'iban', value: 'GB83WEST12345698765432' } }));
      assertInvalidFields(response, ['body.payee.value']);
      assert.match(response.body.errors[0].reason, /check digits/i);
    });

    it('when callback_url is not an http(s) URL, then 422 names body.callback_url', async () => {
      for (const callbackUrl of ['not a url', 'ftp://example.org/x', 'javascript:alert(1)']) {
        assertInvalidFields(await refused(fees, feeOrder({ callback_url: callbackUrl })), ['body.callback_url']);
      }
    });

    it('when several fields are wrong at once, then every failing field is reported in one answer', async () => {
      const response = await refused(
        fees,
        feeOrder({ kind: 'loan', currency: 'XYZ', payer: { type: 'msisdn', value: 'abc' }, callback_url: 'nope', colour: 'red' }),
      );
      assertInvalidFields(response, ['body.kind', 'body.currency', 'body.payer.value', 'body.callback_url', 'body.colour']);
    });

    it('when the JSON is malformed, then 400 malformed_json', async () => {
      const response = await assertNothingWritten(kassa.runtime.context.db, () =>
        fees.call('POST', '/v1/orders', { rawBody: '{"kind": "fee", "amount": ', idempotencyKey: randomUUID() }),
      );
      assertProblem(response, 400, 'malformed_json');
    });

    it('when the body is over 1 MB, then 413 payload_too_large', async () => {
      const response = await refused(fees, feeOrder({ metadata: { blob: 'x'.repeat(1_100_000) } }));
      assertProblem(response, 413, 'payload_too_large');
    });

    it('when the body is not a JSON object (an array, or text/plain), then it is refused as a problem', async () => {
      const array = await refused(fees, [feeOrder()]);
      assert.ok([400, 415, 422].includes(array.status), `got ${array.status}`);
      assert.match(array.contentType, /^application\/problem\+json/);
      const text = await assertNothingWritten(kassa.runtime.context.db, () =>
        fees.call('POST', '/v1/orders', { rawBody: JSON.stringify(feeOrder()), idempotencyKey: randomUUID(), headers: { 'content-type': 'text/plain' } }),
      );
      assertProblem(text, 415, 'json_object_expected');
    });

    it('when the Idempotency-Key header is missing, then 422 names header.Idempotency-Key', async () => {
      assertInvalidFields(await refused(fees, feeOrder(), null), ['header.Idempotency-Key']);
    });

    it('when the Idempotency-Key is longer than 255 characters, then 422 names header.Idempotency-Key', async () => {
      assertInvalidFields(await refused(fees, feeOrder(), 'k'.repeat(256)), ['header.Idempotency-Key']);
    });
  });

  describe('GET /v1/orders/{id}', () => {
    it('when the order exists, then it answers the order with its event timeline', async () => {
      const created = await fees.post('/v1/orders', feeOrder(), randomUUID());
      const read = await fees.get(`/v1/orders/${created.body.id}`);
      assert.equal(read.status, 200);
      assert.equal(read.body.id, created.body.id);
      assert.equal(read.body.status, 'received');
      assert.equal(read.body.amount_minor, '12550');
      assert.equal(read.body.events.length, 1);
      assert.deepEqual({ from: read.body.events[0].from, to: read.body.events[0].to }, { from: null, to: 'received' });
      assert.ok(!Number.isNaN(Date.parse(read.body.events[0].at)));
    });

    it('when the id is not a uuid, then 422 validation problem naming the id', async () => {
      const response = await fees.get('/v1/orders/not-a-uuid');
      assertProblem(response, 422, 'validation_failed');
      assert.equal(response.body.errors.length, 1);
      assert.equal(response.body.errors[0].field, 'path.id');
    });

    it('when no order has the id, then 404 not_found', async () => {
      assertProblem(await fees.get(`/v1/orders/${randomUUID()}`), 404, 'not_found');
    });
  });

  describe('GET /v1/orders', () => {
    let listing: Api;
    const feeIds: string[] = [];
    const benefitIds: string[] = [];
    let middle: string;
    let cancelledId: string;

    before(async () => {
      listing = apiClient(kassa.url, await kassa.issueKey('listing-agency', ['fees:write', 'benefits:write', 'orders:read']));
      for (let index = 0; index < 4; index += 1) {
        const created = await listing.post('/v1/orders', feeOrder({ reference: `fee ${index}` }), randomUUID());
        assert.equal(created.status, 201);
        feeIds.push(created.body.id);
        await sleep(3);
      }
      await sleep(5);
      middle = new Date().toISOString();
      await sleep(5);
      for (let index = 0; index < 3; index += 1) {
        const created = await listing.post('/v1/orders', benefitOrder({ reference: `benefit ${index}` }), randomUUID());
        assert.equal(created.status, 201);
        benefitIds.push(created.body.id);
        await sleep(3);
      }
      cancelledId = feeIds[1]!;
      const cancelled = await listing.post(`/v1/orders/${cancelledId}/cancel`, undefined, randomUUID());
      assert.equal(cancelled.status, 200);
    });

    async function allPages(query: string, limit: number): Promise<{ ids: string[]; pages: number }> {
      const ids: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const separator = query ? '&' : '';
        const response = await listing.get(`/v1/orders?${query}${separator}limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
        assert.equal(response.status, 200, JSON.stringify(response.body));
        assert.ok(response.body.data.length <= limit);
        ids.push(...response.body.data.map((order: { id: string }) => order.id));
        cursor = response.body.next_cursor;
        pages += 1;
        assert.ok(pages < 20, 'pagination must end');
      } while (cursor);
      return { ids, pages };
    }

    it('when 7 orders are paged 3 at a time, then every order comes exactly once, newest first', async () => {
      const { ids, pages } = await allPages('', 3);
      assert.equal(new Set(ids).size, ids.length, 'no duplicates across pages');
      assert.deepEqual(ids, [...feeIds, ...benefitIds].reverse());
      assert.ok(pages >= 3);
    });

    it('when filtered by kind, then only that kind is listed', async () => {
      assert.deepEqual((await allPages('kind=benefit', 2)).ids, [...benefitIds].reverse());
      assert.deepEqual((await allPages('kind=fee', 50)).ids, [...feeIds].reverse());
    });

    it('when filtered by status, then only orders in that status are listed', async () => {
      assert.deepEqual((await allPages('status=cancelled', 50)).ids, [cancelledId]);
      const received = (await allPages('status=received', 50)).ids;
      assert.deepEqual(received, [...feeIds, ...benefitIds].filter((id) => id !== cancelledId).reverse());
      assert.deepEqual((await allPages('status=completed', 50)).ids, []);
    });

    it('when filtered by a created range, then only orders created in it are listed', async () => {
      assert.deepEqual((await allPages(`created_from=${encodeURIComponent(middle)}`, 2)).ids, [...benefitIds].reverse());
      assert.deepEqual((await allPages(`created_to=${encodeURIComponent(middle)}`, 2)).ids, [...feeIds].reverse());
      const future = new Date(Date.now() + 3_600_000).toISOString();
      assert.deepEqual((await allPages(`created_from=${encodeURIComponent(future)}`, 5)).ids, []);
      const withOffset = middle.replace('Z', '+00:00');
      assert.deepEqual((await allPages(`kind=benefit&created_from=${encodeURIComponent(withOffset)}`, 5)).ids, [...benefitIds].reverse());
    });

    it('when a filter value is bad, then 422 names the query parameter', async () => {
      const cases: [string, string][] = [
        ['kind=loan', 'query.kind'],
        ['status=paid', 'query.status'],
        ['created_from=yesterday', 'query.created_from'],
        ['created_to=2026-13-01T00:00:00Z', 'query.created_to'],
        ['limit=0', 'query.limit'],
        ['limit=201', 'query.limit'],
        ['limit=ten', 'query.limit'],
        ['cursor=bm90LWEtY3Vyc29y', 'query.cursor'],
      ];
      for (const [query, field] of cases) {
        assertInvalidFields(await listing.get(`/v1/orders?${query}`), [field]);
      }
    });

    it('when an unknown query parameter is sent, then 422 names it', async () => {
      assertInvalidFields(await listing.get('/v1/orders?colour=red'), ['query.colour']);
    });
  });

  describe('POST /v1/orders/{id}/cancel before submission', () => {
    it('when an order no rail has seen is cancelled, then 200 cancelled, the timeline ends cancelled and the audit log records it', async () => {
      const created = await benefits.post('/v1/orders', benefitOrder(), randomUUID());
      const requestId = `cancel-${randomUUID()}`;
      const cancelled = await benefits.post(`/v1/orders/${created.body.id}/cancel`, undefined, randomUUID(), { 'x-request-id': requestId });
      assert.equal(cancelled.status, 200);
      assert.equal(cancelled.body.id, created.body.id);
      assert.equal(cancelled.body.status, 'cancelled');
      assert.deepEqual(cancelled.body.events.map((event: { to: string }) => event.to), ['received', 'cancelled']);

      const read = await benefits.get(`/v1/orders/${created.body.id}`);
      assert.equal(read.body.status, 'cancelled');
      assert.deepEqual(read.body.events.map((event: { from: string | null; to: string }) => [event.from, event.to]), [[null, 'received'], ['received', 'cancelled']]);

      const audit = await kassa.runtime.context.db('audit_log').where({ action: 'order.cancel', target: created.body.id });
      assert.equal(audit.length, 1);
      assert.equal(audit[0].request_id, requestId);
    });

    it('when an order is cancelled twice with different keys, then the second answer is 409 order_not_cancellable', async () => {
      const created = await benefits.post('/v1/orders', benefitOrder(), randomUUID());
      assert.equal((await benefits.post(`/v1/orders/${created.body.id}/cancel`, undefined, randomUUID())).status, 200);
      const again = await assertNothingWritten(kassa.runtime.context.db, () => benefits.post(`/v1/orders/${created.body.id}/cancel`, undefined, randomUUID()));
      assertProblem(again, 409, 'order_not_cancellable');
    });

    it('when a cancel is replayed with the same Idempotency-Key, then the first answer comes back and nothing more is written', async () => {
      const created = await benefits.post('/v1/orders', benefitOrder(), randomUUID());
      const key = randomUUID();
      const first = await benefits.post(`/v1/orders/${created.body.id}/cancel`, undefined, key);
      assert.equal(first.status, 200);
      const replay = await assertNothingWritten(kassa.runtime.context.db, () => benefits.post(`/v1/orders/${created.body.id}/cancel`, undefined, key));
      assert.equal(replay.status, 200);
      assert.equal(replay.headers.get('idempotent-replayed'), 'true');
      assert.deepEqual(replay.body, first.body);
    });

    it('when the cancel has no Idempotency-Key, then 422 and the order is untouched', async () => {
      const created = await benefits.post('/v1/orders', benefitOrder(), randomUUID());
      const response = await assertNothingWritten(kassa.runtime.context.db, () => benefits.call('POST', `/v1/orders/${created.body.id}/cancel`));
      assertInvalidFields(response, ['header.Idempotency-Key']);
      assert.equal((await benefits.get(`/v1/orders/${created.body.id}`)).body.status, 'received');
    });

    it('when the order to cancel does not exist, then 404 not_found', async () => {
      assertProblem(await admin.post(`/v1/orders/${randomUUID()}/cancel`, undefined, randomUUID()), 404, 'not_found');
    });

    it('when the id to cancel is not a uuid, then 422', async () => {
      assertProblem(await benefits.post('/v1/orders/12345/cancel', undefined, randomUUID()), 422, 'validation_failed');
    });

    it('when nothing is dispatched, then the outbox still holds every uncancelled order (no worker ran)', async () => {
      const counts = await rowCounts(kassa.runtime.context.db, ['orders', 'outbox']);
      assert.equal(counts.outbox, counts.orders);
    });
  });
});

describe('POST /v1/orders/{id}/cancel after the rail completed the order (e2e, postgres queues, workers running)', () => {
  let kassa: TestKassa;
  let api: Api;
  before(async () => {
    kassa = await startTestKassa({ backend: 'postgres' });
    api = apiClient(kassa.url, await kassa.issueKey('ministry-of-social-welfare', ['benefits:write', 'orders:read']));
  });
  after(async () => kassa?.stop());

  it('when a completed order is cancelled, then 409 order_not_cancellable and it stays completed', async () => {
    const created = await api.post('/v1/orders', benefitOrder(), randomUUID());
    assert.equal(created.status, 201);
    await eventually(async () => ((await api.get(`/v1/orders/${created.body.id}`)).body.status === 'completed' ? true : undefined), { what: 'the order to complete' });
    const db = kassa.runtime.context.db;
    const response = await assertNothingWritten(db, () => api.post(`/v1/orders/${created.body.id}/cancel`, undefined, randomUUID()), ['orders', 'order_events', 'audit_log', 'idempotency_keys']);
    assertProblem(response, 409, 'order_not_cancellable');
    assert.match(response.body.detail, /completed/);
    const read = await api.get(`/v1/orders/${created.body.id}`);
    assert.equal(read.body.status, 'completed');
    assert.ok(!read.body.events.some((event: { to: string }) => event.to === 'cancelled'));
  });

  it('when a declined order (payee ending 0000) is cancelled, then 409 and it stays failed with AC04', async () => {
    const created = await api.post('/v1/orders', benefitOrder({ payee: { type: 'msisdn', value: '+254712340000' } }), randomUUID());
    const failed = await eventually(async () => {
      const order = await api.get(`/v1/orders/${created.body.id}`);
      return order.body.status === 'failed' ? order.body : undefined;
    }, { what: 'the order to fail' });
    assert.equal(failed.failure.code, 'AC04');
    assertProblem(await api.post(`/v1/orders/${created.body.id}/cancel`, undefined, randomUUID()), 409, 'order_not_cancellable');
  });
});
