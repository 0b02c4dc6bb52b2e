import { randomUUID } from 'node:crypto';
import autocannon, { type RequestParams } from 'autocannon';

export interface LoadOptions {
  readonly url: string;
  readonly apiKey: string;
  readonly durationS: number;
  readonly connections: number;
}

export interface LoadResult {
  readonly accepted: number;
  readonly durationS: number;
  readonly latencyMs: { readonly p50: number; readonly p99: number; readonly max: number };
  /** Responses other than 201, by status code. */
  readonly rejectedByStatus: Readonly<Record<string, number>>;
  readonly connectionErrors: number;
  readonly timeouts: number;
}

// The order runStart's banner shows; the payee ends in neither 0000, 0001 nor 0002, so the sandbox rail completes it.
const BENEFIT_ORDER = JSON.stringify({
  kind: 'benefit',
  amount: '25.00',
  currency: 'KES',
  payer: { type: 'bank_account', value: '0011223344' },
  payee: { type: 'msisdn', value: '+254712345678' },
  reference: 'bench',
});

/** POST /v1/orders as fast as `connections` clients can, each request under its own Idempotency-Key. */
export async function postOrders(options: LoadOptions): Promise<LoadResult> {
  const result = await autocannon({
    url: options.url,
    connections: options.connections,
    duration: options.durationS,
    requests: [
      {
        method: 'POST',
        path: '/v1/orders',
        headers: { authorization: `Bearer ${options.apiKey}`, 'content-type': 'application/json' },
        body: BENEFIT_ORDER,
        setupRequest: withUniqueIdempotencyKey,
      },
    ],
  });
  const { 201: created, ...others } = Object.fromEntries(Object.entries(result.statusCodeStats).map(([status, stats]) => [status, stats.count]));
  return {
    accepted: created ?? 0,
    durationS: result.duration,
    latencyMs: { p50: result.latency.p50, p99: result.latency.p99, max: result.latency.max },
    rejectedByStatus: others,
    // autocannon counts timeouts among its errors.
    connectionErrors: result.errors - result.timeouts,
    timeouts: result.timeouts,
  };
}

function withUniqueIdempotencyKey(request: RequestParams): RequestParams {
  return { ...request, headers: { ...request.headers, 'idempotency-key': randomUUID() } };
}
