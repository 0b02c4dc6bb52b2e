import { z } from 'zod';
import { RailError, type RailAdapter, type RailCapabilities, type RailOutcome, type RailPayment, type RailStatus } from '../contract.ts';
import { decisionFor, type SandboxFailure } from './error-decisions.ts';

/** Talks to the sandbox rail (see ./simulator.ts for the protocol). */

const OptionsSchema = z.object({
  baseUrl: z.url({ protocol: /^https?$/ }),
  timeoutMs: z.number().int().positive().max(600_000),
});
export type SandboxRailAdapterOptions = z.input<typeof OptionsSchema>;

const ResultSchema = z.object({
  key: z.string(),
  status: z.enum(['completed', 'pending', 'failed']),
  rail_reference: z.string().optional(),
  reason_code: z.string().optional(),
  reason: z.string().optional(),
});
type WireResult = z.infer<typeof ResultSchema>;
const TransfersResponseSchema = z.object({ results: z.array(ResultSchema) });

const MAX_CHUNK_SIZE = 1000;

export class SandboxRailAdapter implements RailAdapter {
  static readonly id = 'sandbox';
  readonly id = SandboxRailAdapter.id;
  readonly capabilities: RailCapabilities = Object.freeze({
    directions: Object.freeze(['disbursement', 'collection'] as const),
    partyTypes: Object.freeze(['msisdn', 'iban', 'bank_account', 'functional_id', 'card'] as const),
    currencies: Object.freeze(['*']),
    maxChunkSize: MAX_CHUNK_SIZE,
  });

  private readonly baseUrl: string;
  private readonly timeoutMs: number;
  private readonly closing = new AbortController();

  constructor(options: SandboxRailAdapterOptions) {
    const parsed = OptionsSchema.safeParse(options);
    if (!parsed.success) {
      const detail = parsed.error.issues.map((i) => `${i.path.join('.') || 'options'}: ${i.message}`).join('; ');
      throw new Error(`SandboxRailAdapter: invalid option ${detail}`);
    }
    this.baseUrl = parsed.data.baseUrl.replace(/\/+$/, '');
    this.timeoutMs = parsed.data.timeoutMs;
  }

  /**
   * Sends the payments in pieces of at most maxChunkSize, one POST per piece. If the first piece
   * fails the whole call throws; if a later one fails, its payments (and the unsent rest) carry the
   * error while earlier pieces keep their outcomes.
   */
  async initiateChunk(payments: readonly RailPayment[]): Promise<ReadonlyMap<string, RailOutcome | RailError>> {
    const outcomes = new Map<string, RailOutcome | RailError>();
    for (let start = 0; start < payments.length; start += MAX_CHUNK_SIZE) {
      const piece = payments.slice(start, start + MAX_CHUNK_SIZE);
      try {
        for (const [key, outcome] of await this.initiatePiece(piece)) outcomes.set(key, outcome);
      } catch (error) {
        if (start === 0 || !(error instanceof RailError)) throw error;
        for (const p of piece) outcomes.set(p.railKey, error);
        const notSent = new RailError(
          error.decision === 'unavailable' ? 'unavailable' : 'retry',
          'not sent: an earlier piece of the chunk failed',
          error.railCode,
        );
        for (const p of payments.slice(start + MAX_CHUNK_SIZE)) outcomes.set(p.railKey, notSent);
        break;
      }
    }
    return outcomes;
  }

  async getStatus(railKey: string): Promise<RailStatus> {
    const { status, body } = await this.send('GET', `/v1/transfers/${encodeURIComponent(railKey)}`);
    if (status === 404) return { status: 'not_found' };
    this.throwUnlessOk(status, body, 'status inquiry');
    const parsed = ResultSchema.safeParse(parseJson(body));
    if (!parsed.success || parsed.data.key !== railKey) {
      throw new RailError('unknown', 'sandbox answered a status inquiry with an unreadable body', 'bad_response');
    }
    return toOutcome(parsed.data);
  }

  async close(): Promise<void> {
    this.closing.abort(new Error('adapter closed'));
  }

  private async initiatePiece(piece: readonly RailPayment[]): Promise<Map<string, RailOutcome | RailError>> {
    const outcomes = new Map<string, RailOutcome | RailError>();
    if (piece.length === 0) return outcomes;
    const transfers = piece.map((p) => ({
      key: p.railKey,
      kind: p.kind,
      amount_minor: p.amount.minor.toString(),
      currency: p.amount.currency,
      payer: { type: p.payer.type, value: p.payer.value, institution: p.payer.institution },
      payee: { type: p.payee.type, value: p.payee.value, institution: p.payee.institution },
      reference: p.reference,
    }));
    const { status, body } = await this.send('POST', '/v1/transfers', JSON.stringify({ transfers }));
    this.throwUnlessOk(status, body, 'transfer request');
    const parsed = TransfersResponseSchema.safeParse(parseJson(body));
    if (!parsed.success) {
      // The rail answered 200, so it may well have executed the transfers.
      throw new RailError('unknown', 'sandbox answered a transfer request with an unreadable body', 'bad_response');
    }
    const byKey = new Map<string, WireResult>();
    for (const result of parsed.data.results) byKey.set(result.key, result);
    for (const p of piece) {
      const result = byKey.get(p.railKey);
      outcomes.set(p.railKey, result ? toOutcome(result) : new RailError('unknown', 'sandbox answered without a result for this key', 'missing_result'));
    }
    return outcomes;
  }

  private throwUnlessOk(status: number, body: string, what: string): void {
    if (status >= 200 && status < 300) return;
    const decision = decisionFor({ kind: 'http', status });
    const detail = problemDetail(body);
    const message = `sandbox rejected the ${what} with HTTP ${status}${detail ? `: ${detail}` : ''}`;
    if (decision === 'bug') throw new Error(message);
    throw new RailError(decision, message, `HTTP_${status}`);
  }

  /** One HTTP exchange, body included, under the timeout; failures below HTTP become RailErrors. */
  private async send(method: 'GET' | 'POST', path: string, body?: string): Promise<{ status: number; body: string }> {
    if (this.closing.signal.aborted) throw new Error('SandboxRailAdapter is closed');
    const signal = AbortSignal.any([AbortSignal.timeout(this.timeoutMs), this.closing.signal]);
    try {
      const response = await fetch(`${this.baseUrl}${path}`, {
        method,
        headers: body === undefined ? { accept: 'application/json' } : { accept: 'application/json', 'content-type': 'application/json' },
        body,
        signal,
      });
      return { status: response.status, body: await response.text() };
    } catch (error) {
      if (this.closing.signal.aborted) {
        throw new RailError('unknown', `sandbox ${method} ${path}: adapter closed while the request was in flight`, 'closed');
      }
      const failure = failureOf(error);
      const decision = decisionFor(failure);
      const code = failure.kind === 'network' ? failure.code : failure.kind;
      const message =
        failure.kind === 'timeout'
          ? `sandbox ${method} ${path}: no answer within ${this.timeoutMs} ms`
          : `sandbox ${method} ${path}: ${code ?? (error instanceof Error ? error.message : String(error))}`;
      throw new RailError(decision === 'bug' ? 'unknown' : decision, message, code);
    }
  }
}

function toOutcome(result: WireResult): RailOutcome {
  switch (result.status) {
    case 'completed':
      if (result.rail_reference === undefined) {
        return { status: 'pending' }; // cannot claim completion without the rail's reference; inquire later
      }
      return { status: 'completed', railReference: result.rail_reference };
    case 'pending':
      return result.rail_reference === undefined ? { status: 'pending' } : { status: 'pending', railReference: result.rail_reference };
    case 'failed': {
      const reasonCode = result.reason_code ?? 'UNSPECIFIED';
      const failed = { status: 'failed', reasonCode, reason: result.reason ?? reasonCode } as const;
      return result.rail_reference === undefined ? failed : { ...failed, railReference: result.rail_reference };
    }
  }
}

function failureOf(error: unknown): SandboxFailure {
  const name = error instanceof Error || error instanceof DOMException ? error.name : undefined;
  if (name === 'TimeoutError' || name === 'AbortError') return { kind: 'timeout' };
  return { kind: 'network', code: networkCodeOf(error) };
}

/** fetch wraps the socket error: TypeError('fetch failed') { cause: Error { code } | AggregateError }. */
function networkCodeOf(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current !== null && typeof current === 'object'; depth++) {
    const candidate = current as { code?: unknown; cause?: unknown; errors?: unknown };
    if (typeof candidate.code === 'string') return candidate.code;
    current = candidate.cause ?? (Array.isArray(candidate.errors) ? candidate.errors[0] : undefined);
  }
  return undefined;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function problemDetail(body: string): string | undefined {
  const problem = parseJson(body) as { detail?: unknown; title?: unknown; errors?: unknown } | undefined;
  if (!problem || typeof problem !== 'object') return undefined;
  if (Array.isArray(problem.errors) && problem.errors.length > 0) {
    return problem.errors
      .slice(0, 5)
      .map((e: { field?: unknown; reason?: unknown }) => `${String(e.field)}: ${String(e.reason)}`)
      .join('; ');
  }
  return typeof problem.detail === 'string' ? problem.detail : typeof problem.title === 'string' ? problem.title : undefined;
}
