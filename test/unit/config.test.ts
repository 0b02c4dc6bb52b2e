import assert from 'node:assert/strict';
import { ConfigError, loadConfig } from '../../src/config/index.ts';
import { backoffDelay } from '../../src/domain/backoff.ts';

describe('configuration', () => {
  it('when nothing is set, then the embedded defaults apply', () => {
    const config = loadConfig({});
    assert.equal(config.PORT, 8080);
    assert.equal(config.DATABASE_URL, undefined);
    assert.equal(config.REDIS_URL, undefined);
    assert.equal(config.KASSA_DATA_DIR, './.kassa');
    assert.equal(Object.isFrozen(config), true);
  });

  it('when a value is wrong, then loading fails naming the variable', () => {
    assert.throws(() => loadConfig({ PORT: 'eighty' }), (error: unknown) => error instanceof ConfigError && /PORT/.test(error.message));
    assert.throws(() => loadConfig({ REDIS_URL: 'not a url' }), /REDIS_URL/);
    assert.throws(() => loadConfig({ LOG_LEVEL: 'loud' }), /LOG_LEVEL/);
    assert.throws(() => loadConfig({ DISPATCH_CHUNK_SIZE: '0' }), /DISPATCH_CHUNK_SIZE/);
    assert.throws(() => loadConfig({ REPORT_TIMEZONE: 'Mars/Olympus_Mons' }), /REPORT_TIMEZONE: must be an IANA time zone name/);
  });

  it('when the report time zone is not set, then days are counted in UTC; an IANA zone is taken as it is', () => {
    assert.equal(loadConfig({}).REPORT_TIMEZONE, 'UTC');
    assert.equal(loadConfig({ REPORT_TIMEZONE: 'Africa/Nairobi' }).REPORT_TIMEZONE, 'Africa/Nairobi');
  });

  it('when values are given as strings, then they are typed', () => {
    const config = loadConfig({ PORT: '9000', DEMO_CREDENTIAL: 'false', REDIS_URL: 'redis://127.0.0.1:6379' });
    assert.equal(config.PORT, 9000);
    assert.equal(config.DEMO_CREDENTIAL, false);
    assert.equal(config.REDIS_URL, 'redis://127.0.0.1:6379');
  });
});

describe('backoff', () => {
  it('when attempts grow, then the delay doubles up to the cap, with jitter between half and one and a half times', () => {
    assert.equal(backoffDelay(0, 1000, 60_000, () => 0.5), 1000);
    assert.equal(backoffDelay(3, 1000, 60_000, () => 0.5), 8000);
    assert.equal(backoffDelay(20, 1000, 60_000, () => 0.5), 60_000);
    assert.equal(backoffDelay(1, 1000, 60_000, () => 0), 1000);
    assert.equal(backoffDelay(1, 1000, 60_000, () => 0.999), 2998);
  });
});
