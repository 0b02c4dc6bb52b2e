import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import type { Money } from '../../src/domain/money.ts';
import type { Party } from '../../src/domain/order.ts';
import {
  RailCallbackRejected,
  RailError,
  type RailAdapter,
  type RailCallbackRequest,
  type RailCapabilities,
  type RailNotification,
  type RailOutcome,
  type RailPayment,
  type RailStatementEntry,
  type RailStatus,
} from '../contract.ts';
import { SANDBOX_DEFAULT_CALLBACK_SECRET } from './defaults.ts';
import { decisionFor, type SandboxFailure } from './error-decisions.ts';
import { fetchFailureOf, headerValues } from '../http-failure.ts';

/**
 * Talks to the sandbox rail (see ./simulator.ts for the protocol). Options (see ./index.ts for how
 * they come from the environment): `baseUrl`; `timeoutMs` (default 10000); `callbackSecret`, the secret
 * the rail signs callbacks with (default SANDBOX_DEFAULT_CALLBACK_SECRET, which only a local simulator
 * started without one of its own uses).
 */

export const SANDBOX_DEFAULT_TIMEOUT_MS = 10_000;
/** How far a callback's signed timestamp may be from now before it is refused as a replay. */
export const SANDBOX_CALLBACK_TOLERANCE_SECONDS = 300;

const WholeNumberSchema = z.union([
  z.number(),
  z
    .string()
    .trim()
    .regex(/^\d+$/, 'must be a whole number')
    .transform((text) => Number(text)),
]);

export const SandboxRailOptionsSchema = z.object({
  baseUrl: z.url({ protocol: /^https?$/ }),
  timeoutMs: WholeNumberSchema.pipe(z.number().int().positive().max(600_000)).default(SANDBOX_DEFAULT_TIMEOUT_MS),
  callbackSecret: z.string().min(16, 'must be at least 16 characters').default(SANDBOX_DEFAULT_CALLBACK_SECRET),
});
/** Validated options. */
export type SandboxRailOptions = z.output<typeof SandboxRailOptionsSchema>;
/** What the constructor accepts: strings from the environment are fine; defaults fill the gaps. */
export type SandboxRailAdapterOptions = z.input<typeof SandboxRailOptionsSchema>;

const ResultSchema = z.object({
  key: z.string(),
  status: z.enum(['completed', 'pending', 'failed']),
  rail_reference: z.string().optional(),
  reason_code: z.string().optional(),
  reason: z.string().optional(),
});
type WireResult = z.infer<typeof ResultSchema>;
const TransfersResponseSchema = z.object({ results: z.array(ResultSchema) });

const CallbackSchema = ResultSchema.extend({ key: z.string().min(1), rail_reference: z.string().min(1) });

const WireAmountSchema = z.string().regex(/^[1-9]\d{0,18}$/);
const RefundResponseSchema = z.discriminatedUnion('status', [
  z.object({ refund_key: z.string(), key: z.string(), status: z.literal('completed'), rail_reference: z.string().min(1), amount_minor: WireAmountSchema, currency: z.string() }),
  z.object({ refund_key: z.string(), key: z.string(), status: z.literal('failed'), reason_code: z.string().min(1), reason: z.string() }),
]);

const WireDateSchema = z.string().regex(/^\d{4}-\d{2}-\d{2}$/);
const StatementResponseSchema = z.object({
  entries: z.array(
    z.object({
      key: z.string().optional(),
      rail_reference: z.string().min(1),
      amount_minor: WireAmountSchema,
      currency: z.string().regex(/^[A-Z]{3}$/),
      direction: z.enum(['debit', 'credit']),
      booking_date: WireDateSchema,
      value_date: WireDateSchema,
      reversal: z.boolean(),
      counterparty: z.string().optional(),
    }),
  ),
});

const AccountNameResponseSchema = z.object({ name: z.string().min(1) });

const MAX_CHUNK_SIZE = 1000;

export class SandboxRailAdapter implements RailAdapter {
  static readonly id = 'sandbox';
  readonly id = SandboxRailAdapter.id;
  readonly capabilities: RailCapabilities = Object.freeze({
    directions: Object.freeze(['disbursement', 'collection'] as const),
    partyTypes: Object.freeze(['msisdn', 'iban', 'bank_account', 'functional_id', 'card'] as const),
    currencies: Object.freeze(['*']),
    bulk: true,
    maxChunkSize: MAX_CHUNK_SIZE,
    callbacks: true,
    refunds: true,
    statements: true,
  });

  private readonly baseUrl: string;
  private readonly timeoutMs: number;
  private readonly callbackSecret: string;
  private readonly closing = new AbortController();

  constructor(options: SandboxRailAdapterOptions) {
    const parsed = SandboxRailOptionsSchema.safeParse(options);
    if (!parsed.success) {
      const detail = parsed.error.issues.map((i) => `${i.path.join('.') || 'options'}: ${i.message}`).join('; ');
      throw new Error(`SandboxRailAdapter: invalid option ${detail}`);
    }
    this.baseUrl = parsed.data.baseUrl.replace(/\/+$/, '');
    this.timeoutMs = parsed.data.timeoutMs;
    this.callbackSecret = parsed.data.callbackSecret;
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
    if (!parsed.success || parsed.data.key !== railKey) throw unreadable('a status inquiry');
    return toOutcome(parsed.data);
  }

  /**
   * Verifies `Sandbox-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">` in constant
   * time (any of several v1 values may match, for secret rotation), refuses timestamps more than
   * SANDBOX_CALLBACK_TOLERANCE_SECONDS from now (replays), then reads the body.
   */
  async parseCallback(request: RailCallbackRequest): Promise<readonly RailNotification[]> {
    if (!Buffer.isBuffer(request.rawBody)) reject('the raw body is missing');
    const headers = headerValues(request.headers, 'sandbox-signature');
    if (headers.length === 0) reject('the Sandbox-Signature header is missing');
    if (headers.length > 1) reject('more than one Sandbox-Signature header');
    const signature = parseSignatureHeader(headers[0]!);
    if (!signature) reject('the Sandbox-Signature header is malformed; expected t=<unix seconds>,v1=<hex HMAC-SHA256>');

    const expected = createHmac('sha256', this.callbackSecret).update(`${signature.timestamp}.`).update(request.rawBody).digest();
    let matches = false;
    for (const candidate of signature.v1) matches = (candidate.length === expected.length && timingSafeEqual(candidate, expected)) || matches;
    if (!matches) reject('the signature does not match the body (wrong secret, or the body was altered)');
    const ageSeconds = Math.floor(Date.now() / 1000) - signature.timestamp;
    if (Math.abs(ageSeconds) > SANDBOX_CALLBACK_TOLERANCE_SECONDS) {
      reject(`the signature timestamp is ${ageSeconds} s old, outside the ${SANDBOX_CALLBACK_TOLERANCE_SECONDS} s tolerance (a replay?)`);
    }

    const json = parseJson(request.rawBody.toString('utf8'));
    if (json === undefined) reject('the body is not JSON');
    const parsed = CallbackSchema.safeParse(json);
    if (!parsed.success) {
      reject(`the body is not a sandbox notification: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; ')}`);
    }
    return [{ railKey: parsed.data.key, outcome: toOutcome(parsed.data) }];
  }

  /** Refunds (part of) a completed payment; executed once per refundKey. A refusal (over-refund, not completed, …) is a `failed` outcome. */
  async refund(railKey: string, amount: Money, refundKey: string): Promise<RailOutcome> {
    const request = { refund_key: refundKey, amount_minor: amount.minor.toString(), currency: amount.currency };
    const { status, body } = await this.send('POST', `/v1/transfers/${encodeURIComponent(railKey)}/refunds`, JSON.stringify(request));
    this.throwUnlessOk(status, body, 'refund request');
    const parsed = RefundResponseSchema.safeParse(parseJson(body));
    if (!parsed.success || parsed.data.refund_key !== refundKey || parsed.data.key !== railKey) throw unreadable('a refund request');
    const result = parsed.data;
    return result.status === 'completed'
      ? { status: 'completed', railReference: result.rail_reference }
      : { status: 'failed', reasonCode: result.reason_code, reason: result.reason || result.reason_code };
  }

  /** The rail's bookings between two ISO dates, inclusive. A refund's entry carries its refund key as railKey. */
  async fetchStatement(range: { readonly from: string; readonly to: string }): Promise<readonly RailStatementEntry[]> {
    const query = new URLSearchParams({ from: range.from, to: range.to });
    const { status, body } = await this.send('GET', `/v1/statement?${query}`);
    this.throwUnlessOk(status, body, 'statement request');
    const parsed = StatementResponseSchema.safeParse(parseJson(body));
    if (!parsed.success) throw unreadable('a statement request');
    return parsed.data.entries.map((e) => ({
      ...(e.key !== undefined ? { railKey: e.key } : {}),
      railReference: e.rail_reference,
      amount: { minor: BigInt(e.amount_minor), currency: e.currency },
      direction: e.direction,
      bookingDate: e.booking_date,
      valueDate: e.value_date,
      reversal: e.reversal,
      ...(e.counterparty !== undefined ? { counterparty: e.counterparty } : {}),
    }));
  }

  async lookupAccountName(party: Party): Promise<string | undefined> {
    const { status, body } = await this.send('GET', `/v1/accounts/${encodeURIComponent(party.type)}/${encodeURIComponent(party.value)}/name`);
    if (status === 404) return undefined;
    this.throwUnlessOk(status, body, 'account name lookup');
    const parsed = AccountNameResponseSchema.safeParse(parseJson(body));
    if (!parsed.success) throw unreadable('an account name lookup');
    return parsed.data.name;
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
      callback_url: p.callbackUrl,
    }));
    const { status, body } = await this.send('POST', '/v1/transfers', JSON.stringify({ transfers }));
    this.throwUnlessOk(status, body, 'transfer request');
    const parsed = TransfersResponseSchema.safeParse(parseJson(body));
    if (!parsed.success) throw unreadable('a transfer request'); // the rail answered 2xx, so it may well have executed them
    const byKey = new Map<string, WireResult>();
    for (const result of parsed.data.results) byKey.set(result.key, result);
    for (const p of piece) {
      const result = byKey.get(p.railKey);
      if (result) {
        outcomes.set(p.railKey, toOutcome(result));
        continue;
      }
      const missing = railErrorFor({ kind: 'unreadable' }, 'sandbox answered without a result for this key', 'missing_result');
      if (!(missing instanceof RailError)) throw missing;
      outcomes.set(p.railKey, missing);
    }
    return outcomes;
  }

  private throwUnlessOk(status: number, body: string, what: string): void {
    if (status >= 200 && status < 300) return;
    const detail = problemDetail(body);
    throw railErrorFor({ kind: 'http', status }, `sandbox rejected the ${what} with HTTP ${status}${detail ? `: ${detail}` : ''}`, `HTTP_${status}`);
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
      const where = `sandbox ${method} ${path.split('?')[0]}`;
      if (this.closing.signal.aborted) throw railErrorFor({ kind: 'closed' }, `${where}: adapter closed while the request was in flight`, 'closed');
      const failure = fetchFailureOf(error);
      const code = failure.kind === 'network' ? failure.code : failure.kind;
      const message =
        failure.kind === 'timeout'
          ? `${where}: no answer within ${this.timeoutMs} ms`
          : `${where}: ${code ?? (error instanceof Error ? error.message : String(error))}`;
      throw railErrorFor(failure, message, code);
    }
  }
}

/** The error the decision table says a failure is: a RailError, or a plain Error for a `bug`. */
function railErrorFor(failure: SandboxFailure, message: string, railCode: string | undefined): RailError | Error {
  const decision = decisionFor(failure);
  return decision === 'bug' ? new Error(message) : new RailError(decision, message, railCode);
}

function unreadable(what: string): Error {
  return railErrorFor({ kind: 'unreadable' }, `sandbox answered ${what} with an unreadable body`, 'bad_response');
}

function reject(reason: string): never {
  throw new RailCallbackRejected(`sandbox callback rejected: ${reason}`);
}

function parseSignatureHeader(header: string): { timestamp: number; v1: Buffer[] } | undefined {
  let timestamp: number | undefined;
  const v1: Buffer[] = [];
  for (const part of header.split(',')) {
    const [name, value, ...extra] = part.trim().split('=');
    if (value === undefined || extra.length > 0) return undefined;
    if (name === 't') {
      if (timestamp !== undefined || !/^\d{1,12}$/.test(value)) return undefined;
      timestamp = Number(value);
    } else if (name === 'v1') {
      if (!/^[0-9a-fA-F]{64}$/.test(value)) return undefined;
      v1.push(Buffer.from(value, 'hex'));
    } // other schemes are ignored, as a newer rail may add some
  }
  return timestamp === undefined || v1.length === 0 ? undefined : { timestamp, v1 };
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
