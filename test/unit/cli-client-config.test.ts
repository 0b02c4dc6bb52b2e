import assert from 'node:assert/strict';
import { loadCliClientConfig } from '../../src/config/cli-client.ts';
import { ConfigError } from '../../src/config/index.ts';

describe('the settings of the kassa batch commands', () => {
  it('when only the key is set, then the URL is the local Kassa', () => {
    assert.deepEqual(loadCliClientConfig({}, { KASSA_API_KEY: 'kassa_abc' }), { url: 'http://127.0.0.1:8080', apiKey: 'kassa_abc' });
  });

  it('when --url and --key are given, then they win over the environment, without a trailing slash', () => {
    const config = loadCliClientConfig({ url: 'https://payments.example.gov/', key: 'kassa_option' }, { KASSA_URL: 'http://elsewhere:1', KASSA_API_KEY: 'kassa_env' });
    assert.deepEqual(config, { url: 'https://payments.example.gov', apiKey: 'kassa_option' });
    assert.ok(Object.isFrozen(config));
  });

  it('when no key is given, then it fails naming KASSA_API_KEY', () => {
    assert.throws(() => loadCliClientConfig({}, { KASSA_URL: 'http://127.0.0.1:8080', KASSA_API_KEY: '' }), (error: Error) => error instanceof ConfigError && /KASSA_API_KEY/.test(error.message));
  });

  it('when the URL is not an http(s) URL, then it fails naming the variable and the option', () => {
    assert.throws(() => loadCliClientConfig({}, { KASSA_URL: 'ftp://kassa', KASSA_API_KEY: 'k' }), (error: Error) => error instanceof ConfigError && /KASSA_URL/.test(error.message));
    assert.throws(() => loadCliClientConfig({ url: 'not a url' }, { KASSA_API_KEY: 'k' }), (error: Error) => error instanceof ConfigError && /KASSA_URL \(--url\)/.test(error.message));
  });
});
