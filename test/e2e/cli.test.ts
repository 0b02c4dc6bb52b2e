import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { SCOPES } from '../../src/domain/scopes.ts';
import { apiClient, benefitOrder } from '../support/http.ts';
import { startTestKassa, type TestKassa } from '../support/kassa.ts';
import { kassaCommand } from '../support/kassa-command.ts';



describe('the kassa command', () => {
  let kassa: TestKassa;
  before(async () => {
    kassa = await startTestKassa({ backend: 'postgres' });
  });
  after(async () => kassa?.stop());

  it('when `kassa clients create` issues a key, then it is printed once and works against the API with exactly its scopes', async () => {
    const result = await kassaCommand(['clients', 'create', '--org', 'revenue-authority', '--scopes', 'fees:write,orders:read'], { DATABASE_URL: kassa.databaseUrl, LOG_LEVEL: 'silent' });
    assert.equal(result.code, 0, result.stderr);
    const key = /^(kassa_\S+)$/m.exec(result.stdout)?.[1];
    assert.ok(key, `a key in: ${result.stdout}`);
    const stored = await kassa.runtime.context.db('api_clients').where({ name: 'cli' }).first();
    assert.deepEqual(stored.scopes, ['fees:write', 'orders:read']);
    assert.notEqual(stored.key_hash, key, 'only a hash is stored');

    const api = apiClient(kassa.url, key);
    assert.equal((await api.get('/v1/orders')).status, 200);
    assert.equal((await api.post('/v1/orders', benefitOrder(), randomUUID())).status, 403);
  });

  it('when a scope is not one Kassa knows, then the command refuses and names the valid ones', async () => {
    const result = await kassaCommand(['clients', 'create', '--org', 'x', '--scopes', 'everything'], { DATABASE_URL: kassa.databaseUrl });
    assert.notEqual(result.code, 0);
    assert.ok(result.stderr.includes(SCOPES.join(', ')), result.stderr);
  });

  it('when a setting is invalid, then the command stops at once naming the variable', async () => {
    const result = await kassaCommand(['migrate'], { DATABASE_URL: kassa.databaseUrl, PORT: 'eighty' });
    assert.equal(result.code, 78);
    assert.match(result.stderr, /PORT/);
  });

  it('when `kassa worker` runs without DATABASE_URL, then it refuses, since only `kassa start` embeds PostgreSQL', async () => {
    const result = await kassaCommand(['worker'], {});
    assert.equal(result.code, 78);
    assert.match(result.stderr, /DATABASE_URL/);
  });
});
