import assert from 'node:assert/strict';
import type { Caller } from '../../src/domain/caller.ts';
import { CallerCache } from '../../src/http/middleware/caller-cache.ts';

const TTL_MS = 5_000;

function callerNamed(clientName: string): Caller {
  return { clientId: `${clientName}-id`, clientName, organisationId: 'org-id', scopes: ['orders:read'] };
}

/** A lookup whose answers the test gives, one at a time, and which counts what it was asked. */
function controlledLookup() {
  const asked: string[] = [];
  const pending: { resolve: (caller: Caller | undefined) => void; reject: (error: Error) => void }[] = [];
  const lookUp = (keyHash: string) => {
    asked.push(keyHash);
    return new Promise<Caller | undefined>((resolve, reject) => pending.push({ resolve, reject }));
  };
  return { lookUp, asked, answer: (caller: Caller | undefined) => pending.shift()!.resolve(caller), fail: () => pending.shift()!.reject(new Error('database unreachable')) };
}

const settled = () => new Promise((resolve) => setImmediate(resolve));

/** The cache with `key-a` looked up once, as `clientName`. */
async function cacheHolding(lookup: ReturnType<typeof controlledLookup>, now: () => number, clientName: string): Promise<CallerCache> {
  const cache = new CallerCache(lookup.lookUp, TTL_MS, now);
  const first = cache.get('key-a');
  lookup.answer(callerNamed(clientName));
  await first;
  return cache;
}

describe('CallerCache: API keys to callers for a few seconds', () => {
  let clock: number;
  const now = () => clock;
  beforeEach(() => {
    clock = 1_000_000;
  });

  it('when many requests bring an unknown key at once, then the database is asked once and all get its answer', async () => {
    const lookup = controlledLookup();
    const cache = new CallerCache(lookup.lookUp, TTL_MS, now);
    const waiting = Array.from({ length: 50 }, () => cache.get('key-a'));
    lookup.answer(callerNamed('portal'));
    const callers = await Promise.all(waiting);
    assert.deepEqual(lookup.asked, ['key-a']);
    assert.ok(callers.every((caller) => caller?.clientName === 'portal'));
  });

  it('when an entry is in its last fifth, then the old caller is served while one renewal runs, and the renewed one after', async () => {
    const lookup = controlledLookup();
    const cache = await cacheHolding(lookup, now, 'before');
    clock += TTL_MS * 0.85;
    assert.equal((await cache.get('key-a'))?.clientName, 'before');
    assert.equal((await cache.get('key-a'))?.clientName, 'before');
    assert.deepEqual(lookup.asked, ['key-a', 'key-a'], 'one renewal, not one per request');
    lookup.answer(callerNamed('after'));
    await settled();
    clock += TTL_MS * 0.5;
    assert.equal((await cache.get('key-a'))?.clientName, 'after', 'the renewed entry lives on past the first one');
    assert.equal(lookup.asked.length, 2);
  });

  it('when a key is revoked, then it stops working once its entry has expired', async () => {
    const lookup = controlledLookup();
    const cache = await cacheHolding(lookup, now, 'portal');
    clock += TTL_MS;
    const afterRevocation = cache.get('key-a');
    lookup.answer(undefined);
    assert.equal(await afterRevocation, undefined);
    clock += TTL_MS / 2;
    assert.equal(await cache.get('key-a'), undefined, 'the refusal is remembered as well');
    assert.equal(lookup.asked.length, 2);
  });

  it('when a lookup fails, then the requests waiting on it fail and the next request asks the database again', async () => {
    const lookup = controlledLookup();
    const cache = new CallerCache(lookup.lookUp, TTL_MS, now);
    const failing = cache.get('key-a');
    lookup.fail();
    await assert.rejects(failing, /database unreachable/);
    const retried = cache.get('key-a');
    lookup.answer(callerNamed('portal'));
    assert.equal((await retried)?.clientName, 'portal');
    assert.equal(lookup.asked.length, 2);
  });

  it('when a renewal fails, then the entry serves until it expires and the request after that looks the key up', async () => {
    const lookup = controlledLookup();
    const cache = await cacheHolding(lookup, now, 'portal');
    clock += TTL_MS * 0.9;
    assert.equal((await cache.get('key-a'))?.clientName, 'portal');
    lookup.fail();
    await settled();
    assert.equal((await cache.get('key-a'))?.clientName, 'portal', 'still within its time');
    clock += TTL_MS * 0.1;
    const expired = cache.get('key-a');
    lookup.answer(callerNamed('renewed'));
    assert.equal((await expired)?.clientName, 'renewed');
    assert.equal(lookup.asked.length, 3);
  });

  it('when the time to live is zero, then every request asks the database', async () => {
    const lookup = controlledLookup();
    const cache = new CallerCache(lookup.lookUp, 0, now);
    const gets = [cache.get('key-a'), cache.get('key-a')];
    lookup.answer(callerNamed('one'));
    lookup.answer(callerNamed('two'));
    assert.deepEqual((await Promise.all(gets)).map((caller) => caller?.clientName), ['one', 'two']);
  });
});
