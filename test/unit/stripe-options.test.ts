import assert from 'node:assert/strict';
import { sdkAddressOf, StripeOptionsSchema } from '../../adapters/stripe/options.ts';
import { StripeRailAdapter } from '../../adapters/stripe/index.ts';

const env = {
  apiKey: 'sk_test_51Kassa',
  webhookSecret: 'whsec_abc123',
  successUrl: 'https://eservice.example.gov/paid',
  cancelUrl: 'https://eservice.example.gov/cancelled',
};

describe('stripe options', () => {
  it('when only the required variables are set, then the defaults point at the real Stripe API with no SDK retries', () => {
    const options = StripeOptionsSchema.parse(env);
    assert.equal(options.apiBase, undefined);
    assert.equal(options.maxNetworkRetries, 0);
    assert.equal(options.timeoutMs, 20_000);
    assert.equal(options.requestConcurrency, 5);
    assert.equal(sdkAddressOf(options.apiBase), undefined, 'no host/port/protocol: the SDK uses api.stripe.com');
  });

  it('when variables arrive as strings, then numbers are coerced and blank optional ones count as unset', () => {
    const options = StripeOptionsSchema.parse({ ...env, apiBase: ' ', timeoutMs: '1500', maxNetworkRetries: '2', requestConcurrency: '' });
    assert.equal(options.apiBase, undefined);
    assert.equal(options.timeoutMs, 1_500);
    assert.equal(options.maxNetworkRetries, 2);
    assert.equal(options.requestConcurrency, 5);
  });

  it('when apiBase is set, then the SDK gets its host, port and protocol', () => {
    assert.deepEqual(sdkAddressOf('http://127.0.0.1:12111'), { host: '127.0.0.1', port: 12_111, protocol: 'http' });
    assert.deepEqual(sdkAddressOf('https://stripe-proxy.internal'), { host: 'stripe-proxy.internal', port: 443, protocol: 'https' });
    assert.deepEqual(sdkAddressOf('http://[::1]:8080/'), { host: '::1', port: 8_080, protocol: 'http' });
  });

  it('when an option is wrong, then validation names it', () => {
    const issues = (input: Record<string, unknown>) => StripeOptionsSchema.safeParse(input).error?.issues.map((i) => i.path.join('.')) ?? [];
    assert.deepEqual(issues({ ...env, apiKey: 'pk_test_publishable' }), ['apiKey']);
    assert.deepEqual(issues({ ...env, webhookSecret: 'secret' }), ['webhookSecret']);
    assert.deepEqual(issues({ ...env, apiBase: 'ftp://x' }), ['apiBase']);
    assert.deepEqual(issues({ ...env, apiBase: 'http://127.0.0.1:1/v1' }), ['apiBase']);
    assert.deepEqual(issues({ ...env, timeoutMs: 'soon' }), ['timeoutMs']);
    assert.deepEqual(issues({ ...env, maxNetworkRetries: '9' }), ['maxNetworkRetries']);
    assert.deepEqual(issues({ apiKey: env.apiKey, webhookSecret: env.webhookSecret }).sort(), ['cancelUrl', 'successUrl']);
    assert.throws(() => new StripeRailAdapter({ ...env, apiKey: 'nope' }), /StripeRailAdapter: invalid option apiKey/);
  });

  it('when a live key is configured, then it is accepted as is (switching to production is configuration only)', () => {
    assert.equal(StripeOptionsSchema.parse({ ...env, apiKey: 'sk_live_51Kassa' }).apiKey, 'sk_live_51Kassa');
    assert.equal(StripeOptionsSchema.parse({ ...env, apiKey: 'rk_test_51Kassa' }).apiKey, 'rk_test_51Kassa');
  });
});
