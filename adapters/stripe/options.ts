import { z } from 'zod';

/** Unset environment variables arrive as undefined, set-but-empty ones as '': both mean "not given". */
const blankToUndefined = (value: unknown) => (typeof value === 'string' && value.trim() === '' ? undefined : value);

const httpUrl = z.url({ protocol: /^https?$/, message: 'must be an http(s) URL' });

/**
 * The Stripe rail's options, from RAIL_STRIPE_<OPTION> environment variables (strings, hence the
 * coercion): RAIL_STRIPE_API_KEY, RAIL_STRIPE_WEBHOOK_SECRET, RAIL_STRIPE_API_BASE, …
 */
export const StripeOptionsSchema = z.object({
  /** Secret (sk_) or restricted (rk_) key; a test key against the real API works as is. */
  apiKey: z.string().regex(/^(sk|rk)_(test|live)_[A-Za-z0-9_]+$/, 'must be a Stripe secret key (sk_test_…, sk_live_…, rk_…)'),
  /** The signing secret of Kassa's webhook endpoint (whsec_…). */
  webhookSecret: z.string().regex(/^whsec_\S+$/, 'must be a Stripe webhook signing secret (whsec_…)'),
  /**
   * Where the Stripe API is; unset means the real https://api.stripe.com. Only scheme, host and port
   * are used (the SDK's host/port/protocol options): this is how Kassa points at the local fake.
   */
  apiBase: z.preprocess(
    blankToUndefined,
    httpUrl
      .refine((url) => ['', '/'].includes(new URL(url).pathname) && !new URL(url).search, 'must have no path or query (the SDK adds /v1/…)')
      .optional(),
  ),
  /** How long one Stripe request may take before its outcome is `unknown`. */
  timeoutMs: z.preprocess(blankToUndefined, z.coerce.number().int().positive().max(600_000).default(20_000)),
  /** Where Checkout sends the citizen after paying, and after giving up. */
  successUrl: z.preprocess(blankToUndefined, httpUrl),
  cancelUrl: z.preprocess(blankToUndefined, httpUrl),
  /** SDK-level retries; 0 because Kassa retries itself, under the same idempotency key. */
  maxNetworkRetries: z.preprocess(blankToUndefined, z.coerce.number().int().min(0).max(3).default(0)),
  /** How many payments of a chunk are sent to Stripe at the same time. */
  requestConcurrency: z.preprocess(blankToUndefined, z.coerce.number().int().min(1).max(25).default(5)),
});

export type StripeOptions = z.output<typeof StripeOptionsSchema>;
export type StripeOptionsInput = z.input<typeof StripeOptionsSchema>;

/** The SDK's connection options for an apiBase (the SDK always adds /v1/… itself). */
export function sdkAddressOf(apiBase: string | undefined): { host: string; port: number; protocol: 'http' | 'https' } | undefined {
  if (apiBase === undefined) return undefined;
  const url = new URL(apiBase);
  const protocol = url.protocol === 'http:' ? 'http' : 'https';
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  return { host, port: url.port ? Number(url.port) : protocol === 'http' ? 80 : 443, protocol };
}
