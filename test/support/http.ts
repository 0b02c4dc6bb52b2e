export interface JsonResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly contentType: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read arbitrary JSON shapes
  readonly body: any;
}

/** A small client for the API under test: JSON in, JSON (or problem+json) out. */
export function apiClient(baseUrl: string, apiKey?: string) {
  const call = async (method: string, path: string, options: { body?: unknown; rawBody?: string; idempotencyKey?: string; headers?: Record<string, string> } = {}): Promise<JsonResponse> => {
    const headers: Record<string, string> = { ...options.headers };
    if (apiKey) headers.authorization = `Bearer ${apiKey}`;
    if (options.idempotencyKey) headers['idempotency-key'] = options.idempotencyKey;
    let body: string | undefined = options.rawBody;
    if (options.body !== undefined) body = JSON.stringify(options.body);
    if (body !== undefined && !headers['content-type']) headers['content-type'] = 'application/json';
    const response = await fetch(`${baseUrl}${path}`, { method, headers, body });
    const text = await response.text();
    const contentType = response.headers.get('content-type') ?? '';
    return { status: response.status, headers: response.headers, contentType, body: text && contentType.includes('json') ? JSON.parse(text) : text };
  };
  return {
    get: (path: string, headers?: Record<string, string>) => call('GET', path, { headers }),
    post: (path: string, body: unknown, idempotencyKey?: string, headers?: Record<string, string>) => call('POST', path, { body, idempotencyKey, headers }),
    call,
  };
}

export function benefitOrder(overrides: Record<string, unknown> = {}) {
  return {
    kind: 'benefit',
    amount: '25.00',
    currency: 'KES',
    payer: { type: 'bank_account', value: '0011223344' },
    payee: { type: 'msisdn', value: '+254712345678' },
    reference: 'child grant 2026-11',
    ...overrides,
  };
}
