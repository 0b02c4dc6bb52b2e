import { z } from 'zod';
import { minorUnitsOf, type Money } from '../../src/domain/money.ts';
import type { Party } from '../../src/domain/order.ts';
import {
  isRailError,
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
import { CALLBACK_SIGNATURE_HEADER, verifyCallbackSignature } from './callback-signature.ts';
import { resolveGsmaFailure, type GsmaErrorObject, type GsmaFailure } from './error-decisions.ts';
import {
  AccountNameSchema,
  BatchSchema,
  batchCorrelationIdFor,
  CompletionSchema,
  correlationIdFor,
  errorOfRejectionReason,
  fromGsmaAmount,
  GsmaAccountSchema,
  GsmaErrorSchema,
  parseJson,
  railKeyFromCorrelationId,
  RejectionSchema,
  RequestStateSchema,
  ResponseLinkSchema,
  StatementEntrySchema,
  toGsmaAmount,
  TransactionSchema,
  type GsmaParty,
  type GsmaTransaction,
  type RequestState,
} from './wire.ts';
import { fetchFailureOf, headerValues } from '../http-failure.ts';

/**
 * Kassa's adapter for a mobile-money operator speaking the GSMA Mobile Money API (v1.1 paths, v1.2
 * asynchronous behaviour). See ./README.md for the protocol choices; in short:
 *
 * - Auth: OAuth2 client credentials at `${baseUrl}/oauth/token` (HTTP Basic client authentication); the
 *   token is cached until shortly before `expires_in`, shared by concurrent calls, and fetched again once
 *   when the operator answers 401.
 * - Benefits: `POST /transactions/type/disbursement` (one payment) or `POST /batchtransactions` (several),
 *   debiting `disbursementAccount`. Fees: `POST /transactions/type/merchantpay`, debiting the payer's
 *   wallet and crediting `collectionAccount`; the payer approves on the phone, so the outcome stays
 *   `pending` with nextAction `payer_approval` until a callback or a status inquiry says otherwise.
 * - Every request carries X-CorrelationID (wire.correlationIdFor(railKey); a batch: a stable id of its
 *   sorted keys, each item its own id in `metadata.clientCorrelationId`) and the rail key itself in
 *   `requestingOrganisationTransactionReference`; X-Callback-URL is the payment's callbackUrl.
 * - Answers are 202 + request state. A disbursement is followed (GET /requeststates/{id}) for up to
 *   `awaitResultMs` so that most outcomes are final on return; after that it stays `pending` and the
 *   callback or getStatus finishes it.
 * - getStatus: GET /requeststates/{serverCorrelationId} when this process saw the request; otherwise (a
 *   restart, another worker) GET /responses/{X-CorrelationID} — the spec's lookup by client correlation id —
 *   and the request state or transaction it links to. `not_found` only when the operator answers that
 *   lookup 404 with a GSMA `identification` error (it never received the id); a bare 404 is `unknown`.
 */

const WholeNumber = z.union([
  z.number(),
  z
    .string()
    .trim()
    .regex(/^\d+$/, 'must be a whole number')
    .transform((text) => Number(text)),
]);

const CurrencyList = z
  .union([z.string().transform((text) => text.split(',').map((code) => code.trim()).filter((code) => code.length > 0)), z.array(z.string())])
  .pipe(
    z
      .array(z.string().regex(/^[A-Z]{3}$/, 'must be ISO 4217 codes such as KES').refine((code) => minorUnitsOf(code) !== undefined, 'is not a currency'))
      .min(1, 'name at least one currency'),
  );

export const GSMA_DEFAULT_TIMEOUT_MS = 10_000;

export const GsmaOptionsSchema = z.object({
  /** The operator's API root, e.g. https://api.operator.example/mm/v1.2 (paths are appended to it). */
  baseUrl: z.url({ protocol: /^https?$/ }),
  /** Per HTTP request. */
  timeoutMs: WholeNumber.pipe(z.number().int().positive().max(600_000)).default(GSMA_DEFAULT_TIMEOUT_MS),
  /** OAuth2 client credentials the operator issued. */
  clientId: z.string().min(1),
  clientSecret: z.string().min(1),
  /** The secret the operator signs callbacks with (see ./callback-signature.ts). */
  callbackSecret: z.string().min(16, 'must be at least 16 characters'),
  /** The government's account benefits are paid from: "walletid:GOV-001", "msisdn:+254700000001", … */
  disbursementAccount: GsmaAccountSchema,
  /** The government's merchant account fees are paid into. */
  collectionAccount: GsmaAccountSchema,
  /** The currencies the operator serves: "KES" or "KES,UGX". */
  currencies: CurrencyList,
  /** Most payments per batch request. */
  maxChunkSize: WholeNumber.pipe(z.number().int().min(1).max(10_000)).default(1000),
  /** How long initiateChunk follows an accepted disbursement or batch before answering `pending`; 0 never waits. */
  awaitResultMs: WholeNumber.pipe(z.number().int().min(0).max(60_000)).default(3_000),
  /** Single-payment requests in flight at once within a chunk. */
  parallelRequests: WholeNumber.pipe(z.number().int().min(1).max(64)).default(8),
  /** How far a callback's signed timestamp may be from now. */
  callbackToleranceSeconds: WholeNumber.pipe(z.number().int().min(1).max(86_400)).default(300),
});
/** Validated options. */
export type GsmaOptions = z.output<typeof GsmaOptionsSchema>;
/** What the constructor accepts: strings from the environment are fine; defaults fill the gaps. */
export type GsmaAdapterOptions = z.input<typeof GsmaOptionsSchema>;

type TransactionType = 'disbursement' | 'merchantpay' | 'reversal';

interface Answer {
  readonly status: number;
  readonly body: unknown;
  readonly headers: Headers;
}

const TokenSchema = z.object({
  access_token: z.string().min(1),
  token_type: z.string().regex(/^bearer$/i).optional(),
  expires_in: z.union([z.number(), z.string().regex(/^\d+$/).transform(Number)]).optional(),
});

const PAGE_SIZE = 1000;
const MAX_PAGES = 10_000;
const REMEMBERED_KEYS = 200_000;
const POLL_STEPS_MS = [10, 20, 40, 80, 160, 250];
const APPROVAL_MESSAGE = 'The payer approves the payment on the phone (mobile-money PIN prompt).';

export class GsmaMobileMoneyAdapter implements RailAdapter {
  static readonly id = 'gsma-mobile-money';
  readonly id = GsmaMobileMoneyAdapter.id;
  readonly capabilities: RailCapabilities;

  private readonly options: GsmaOptions;
  private readonly baseUrl: string;
  private readonly basePath: string;
  private token: { readonly value: string; readonly refreshAt: number } | undefined;
  private tokenRequest: Promise<string> | undefined;
  private readonly closing = new AbortController();
  /** railKey → serverCorrelationId of requests this process made (a shortcut; getStatus works without it). */
  private readonly serverIds = new BoundedMap<string, string>(REMEMBERED_KEYS);
  /** X-CorrelationID → railKey of requests this process made (reads error callbacks about name-based ids). */
  private readonly keysByCorrelationId = new BoundedMap<string, string>(REMEMBERED_KEYS);

  constructor(options: GsmaAdapterOptions) {
    const parsed = GsmaOptionsSchema.safeParse(options);
    if (!parsed.success) {
      const detail = parsed.error.issues.map((i) => `${i.path.join('.') || 'options'}: ${i.message}`).join('; ');
      throw new Error(`GsmaMobileMoneyAdapter: invalid option ${detail}`);
    }
    this.options = parsed.data;
    this.baseUrl = parsed.data.baseUrl.replace(/\/+$/, '');
    this.basePath = new URL(this.baseUrl).pathname.replace(/\/+$/, '');
    this.capabilities = Object.freeze({
      directions: Object.freeze(['disbursement', 'collection'] as const),
      partyTypes: Object.freeze(['msisdn'] as const),
      currencies: Object.freeze([...parsed.data.currencies]),
      bulk: true,
      maxChunkSize: parsed.data.maxChunkSize,
      callbacks: true,
      refunds: true,
      statements: true,
    });
  }

  // ---------------------------------------------------------------- initiating

  /**
   * Benefits go out as one batch per `maxChunkSize` payments (a lone benefit as a single disbursement),
   * fees as single merchant payments, `parallelRequests` at a time. A batch the operator refuses as invalid is
   * resent payment by payment, so that only the bad payments are declined. When every payment ends in
   * the same RailError the call throws it; otherwise each payment carries its own outcome or error.
   */
  async initiateChunk(payments: readonly RailPayment[]): Promise<ReadonlyMap<string, RailOutcome | RailError>> {
    const outcomes = new Map<string, RailOutcome | RailError>();
    if (payments.length === 0) return outcomes;
    this.assertOpen();
    for (const payment of payments) this.assertServes(payment);

    const benefits = payments.filter((p) => p.kind === 'benefit');
    const fees = payments.filter((p) => p.kind !== 'benefit');
    await Promise.all([this.initiateDisbursements(benefits, outcomes), this.initiateSingles(fees, outcomes)]);

    const results = [...outcomes.values()];
    const first = results[0];
    if (isRailError(first) && results.every((r) => isRailError(r) && r.decision === first.decision)) throw first;
    return outcomes;
  }

  private async initiateDisbursements(payments: readonly RailPayment[], outcomes: Map<string, RailOutcome | RailError>): Promise<void> {
    let failure: RailError | undefined;
    for (let start = 0; start < payments.length; start += this.options.maxChunkSize) {
      const piece = payments.slice(start, start + this.options.maxChunkSize);
      if (failure) {
        const notSent = new RailError(failure.decision === 'unavailable' ? 'unavailable' : 'retry', 'not sent: an earlier batch of the chunk failed', failure.railCode);
        for (const p of piece) outcomes.set(p.railKey, notSent);
        continue;
      }
      if (piece.length === 1) {
        await this.initiateSingles(piece, outcomes);
        continue;
      }
      try {
        for (const [key, outcome] of await this.initiateBatch(piece)) outcomes.set(key, outcome);
      } catch (error) {
        if (!isRailError(error)) throw error;
        for (const p of piece) outcomes.set(p.railKey, error);
        failure = error;
      }
    }
  }

  /** One request per payment, `parallelRequests` at a time; once the operator is unavailable the rest are not sent. */
  private async initiateSingles(payments: readonly RailPayment[], outcomes: Map<string, RailOutcome | RailError>): Promise<void> {
    let next = 0;
    let unavailable: RailError | undefined;
    const worker = async () => {
      while (next < payments.length) {
        const payment = payments[next++]!;
        if (unavailable) {
          outcomes.set(payment.railKey, new RailError('unavailable', 'not sent: the operator was unavailable for an earlier payment of the chunk', unavailable.railCode));
          continue;
        }
        const outcome = await this.initiateSingle(payment);
        if (isRailError(outcome) && outcome.decision === 'unavailable') unavailable ??= outcome;
        outcomes.set(payment.railKey, outcome);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.options.parallelRequests, payments.length) }, worker));
  }

  private async initiateSingle(payment: RailPayment): Promise<RailOutcome | RailError> {
    const type: TransactionType = payment.kind === 'benefit' ? 'disbursement' : 'merchantpay';
    try {
      const answer = await this.call('POST', `/transactions/type/${type}`, {
        body: this.transactionBody(payment, type),
        correlationId: this.remember(payment.railKey),
        callbackUrl: payment.callbackUrl,
      });
      return await this.acceptedOutcome(payment.railKey, answer, type);
    } catch (error) {
      if (isRailError(error)) return error;
      throw error;
    }
  }

  private async initiateBatch(piece: readonly RailPayment[]): Promise<Map<string, RailOutcome | RailError>> {
    const keys = piece.map((p) => p.railKey);
    const body = {
      batchTitle: `Kassa disbursements (${piece.length})`,
      batchDescription: `Kassa chunk of ${piece.length} benefit payments`,
      transactions: piece.map((p) => ({
        ...this.transactionBody(p, 'disbursement'),
        metadata: [{ key: 'clientCorrelationId', value: this.remember(p.railKey) }],
      })),
    };
    const answer = await this.call('POST', '/batchtransactions', { body, correlationId: batchCorrelationIdFor(keys), callbackUrl: piece[0]!.callbackUrl });

    if (answer.status === 202) {
      const accepted = this.readRequestState(answer.body, 'a batch request');
      const state = accepted.status === 'pending' ? await this.awaitFinal(accepted) : accepted;
      const outcomes = new Map<string, RailOutcome | RailError>();
      if (state.status === 'failed') {
        const declined = this.outcomeOfState(state);
        for (const key of keys) outcomes.set(key, declined);
        return outcomes;
      }
      let results = new Map<string, RailOutcome>();
      if (state.status === 'completed' && state.objectReference) {
        try {
          results = await this.batchResults(state.objectReference);
        } catch (error) {
          if (!isRailError(error)) throw error; // accepted: the callback or a status inquiry will tell
        }
      }
      for (const key of keys) outcomes.set(key, results.get(key) ?? { status: 'pending' });
      return outcomes;
    }

    const resolution = this.resolutionOf(answer);
    if (resolution.type === 'declined' && this.errorOf(answer)?.errorCategory === 'validation') {
      // The operator refused the whole batch for one bad item and recorded nothing: send one by one.
      const outcomes = new Map<string, RailOutcome | RailError>();
      await this.initiateSingles(piece, outcomes);
      return outcomes;
    }
    if (resolution.type === 'declined') {
      const failed: RailOutcome = { status: 'failed', reasonCode: resolution.reasonCode, reason: resolution.reason };
      return new Map(keys.map((key) => [key, failed]));
    }
    throw this.errorFor(answer, resolution, 'batch request');
  }

  private transactionBody(payment: RailPayment, type: 'disbursement' | 'merchantpay') {
    const government = type === 'disbursement' ? this.options.disbursementAccount : this.options.collectionAccount;
    const citizen = { key: 'msisdn', value: (type === 'disbursement' ? payment.payee : payment.payer).value };
    return {
      type,
      amount: toGsmaAmount(payment.amount),
      currency: payment.amount.currency,
      debitParty: [type === 'disbursement' ? government : citizen],
      creditParty: [type === 'disbursement' ? citizen : government],
      descriptionText: payment.reference.slice(0, 160),
      requestingOrganisationTransactionReference: payment.railKey,
    };
  }

  /** The outcome of an answer to a transaction-creating POST. */
  private async acceptedOutcome(railKey: string, answer: Answer, type: TransactionType): Promise<RailOutcome> {
    if (answer.status === 200 || answer.status === 201) {
      const transaction = TransactionSchema.safeParse(answer.body);
      if (!transaction.success) throw unreadable(`a ${type} request`);
      return this.outcomeOfTransaction(transaction.data);
    }
    if (answer.status === 202) {
      const accepted = this.readRequestState(answer.body, `a ${type} request`);
      this.serverIds.set(railKey, accepted.serverCorrelationId);
      if (accepted.status !== 'pending' || type === 'merchantpay') return this.outcomeOfState(accepted, type);
      return this.outcomeOfState(await this.awaitFinal(accepted), type);
    }
    const resolution = this.resolutionOf(answer);
    if (resolution.type === 'declined') return { status: 'failed', reasonCode: resolution.reasonCode, reason: resolution.reason };
    throw this.errorFor(answer, resolution, `${type} request`);
  }

  /** Polls the request state until it is final or awaitResultMs has passed; a failed poll leaves it pending. */
  private async awaitFinal(state: RequestState): Promise<RequestState> {
    const deadline = Date.now() + this.options.awaitResultMs;
    let current = state;
    for (let step = 0; current.status === 'pending' && Date.now() < deadline; step++) {
      await sleep(Math.min(POLL_STEPS_MS[Math.min(step, POLL_STEPS_MS.length - 1)]!, Math.max(0, deadline - Date.now())), this.closing.signal);
      if (this.closing.signal.aborted) break;
      try {
        const answer = await this.call('GET', `/requeststates/${encodeURIComponent(state.serverCorrelationId)}`);
        if (answer.status !== 200) break;
        const parsed = RequestStateSchema.safeParse(answer.body);
        if (!parsed.success) break;
        current = parsed.data;
      } catch (error) {
        if (!isRailError(error)) throw error;
        break;
      }
    }
    return current;
  }

  /** Outcomes by rail key from a finished batch's completions and rejections. */
  private async batchResults(batchId: string): Promise<Map<string, RailOutcome>> {
    const path = `/batchtransactions/${encodeURIComponent(batchId)}`;
    const [completions, rejections] = await Promise.all([this.fetchPages(`${path}/completions`, 'batch completions'), this.fetchPages(`${path}/rejections`, 'batch rejections')]);
    const results = new Map<string, RailOutcome>();
    for (const item of completions) {
      const completion = CompletionSchema.safeParse(item);
      if (!completion.success) throw unreadable('a batch completion');
      const key = completion.data.requestingOrganisationTransactionReference;
      if (key) results.set(key, { status: 'completed', railReference: completion.data.transactionReference });
    }
    for (const item of rejections) {
      const rejection = RejectionSchema.safeParse(item);
      if (!rejection.success) throw unreadable('a batch rejection');
      const key = rejection.data.requestingOrganisationTransactionReference;
      if (!key) continue;
      const error = errorOfRejectionReason(rejection.data.rejectionReason);
      const resolution = error ? resolveGsmaFailure({ kind: 'final', error }) : undefined;
      const declined: RailOutcome =
        resolution?.type === 'declined'
          ? { status: 'failed', reasonCode: resolution.reasonCode, reason: resolution.reason }
          : { status: 'failed', reasonCode: 'NARR', reason: rejection.data.rejectionReason };
      results.set(key, rejection.data.transactionReference ? { ...declined, railReference: rejection.data.transactionReference } : declined);
    }
    return results;
  }

  // ---------------------------------------------------------------- status

  async getStatus(railKey: string): Promise<RailStatus> {
    this.assertOpen();
    const known = this.serverIds.get(railKey);
    if (known !== undefined) {
      const answer = await this.call('GET', `/requeststates/${encodeURIComponent(known)}`);
      if (answer.status === 200) return this.statusOfRequestState(this.readRequestState(answer.body, 'a request state inquiry'));
      if (answer.status !== 404) throw this.errorFor(answer, this.resolutionOf(answer), 'request state inquiry');
      this.serverIds.delete(railKey); // expired on the operator's side: look it up by our own id
    }

    const answer = await this.call('GET', `/responses/${encodeURIComponent(correlationIdFor(railKey))}`);
    if (answer.status === 404) {
      if (this.errorOf(answer)?.errorCategory === 'identification') return { status: 'not_found' };
      throw new RailError('unknown', 'the operator answered 404 to a response lookup without a GSMA identification error: cannot tell whether it received the request', 'HTTP_404');
    }
    if (answer.status !== 200) throw this.errorFor(answer, this.resolutionOf(answer), 'response lookup');
    const link = ResponseLinkSchema.safeParse(answer.body);
    const path = link.success ? this.pathOfLink(link.data.link) : undefined;
    const requestState = path === undefined ? null : /^\/requeststates\/([^/?#]+)$/.exec(path);
    const transaction = path === undefined ? null : /^\/transactions\/([^/?#]+)$/.exec(path);
    if (requestState) {
      const state = await this.call('GET', path!);
      if (state.status !== 200) throw this.errorFor(state, this.resolutionOf(state), 'request state inquiry');
      const parsed = this.readRequestState(state.body, 'a request state inquiry');
      this.serverIds.set(railKey, parsed.serverCorrelationId);
      return this.statusOfRequestState(parsed);
    }
    if (transaction) {
      const found = await this.call('GET', path!);
      if (found.status !== 200) throw this.errorFor(found, this.resolutionOf(found), 'transaction inquiry');
      const parsed = TransactionSchema.safeParse(found.body);
      if (!parsed.success) throw unreadable('a transaction inquiry');
      return this.outcomeOfTransaction(parsed.data);
    }
    throw unreadable('a response lookup (no link to a request state or a transaction)');
  }

  private async statusOfRequestState(state: RequestState): Promise<RailOutcome> {
    if (state.status !== 'pending' || !state.objectReference) return this.outcomeOfState(state);
    // Pending: a merchant payment waits for the payer, which only the transaction's type tells.
    try {
      const answer = await this.call('GET', `/transactions/${encodeURIComponent(state.objectReference)}`);
      const transaction = answer.status === 200 ? TransactionSchema.safeParse(answer.body) : undefined;
      return this.outcomeOfState(state, transaction?.success && transaction.data.type === 'merchantpay' ? 'merchantpay' : undefined);
    } catch (error) {
      if (!isRailError(error)) throw error;
      return this.outcomeOfState(state);
    }
  }

  private outcomeOfState(state: RequestState, type?: TransactionType): RailOutcome {
    const reference = state.objectReference;
    switch (state.status) {
      case 'completed':
        // Cannot claim completion without the operator's reference; inquire later.
        return reference ? { status: 'completed', railReference: reference } : { status: 'pending' };
      case 'pending':
        return {
          status: 'pending',
          ...(reference ? { railReference: reference } : {}),
          ...(type === 'merchantpay' ? { nextAction: { type: 'payer_approval', message: APPROVAL_MESSAGE } as const } : {}),
        };
      case 'failed':
        return { ...declinedOf(state.error), ...(reference ? { railReference: reference } : {}) };
    }
  }

  private outcomeOfTransaction(transaction: GsmaTransaction): RailOutcome {
    const status = transaction.transactionStatus.toLowerCase();
    const reference = transaction.transactionReference;
    if (['completed', 'success', 'successful', 'reversed'].includes(status)) return { status: 'completed', railReference: reference };
    if (['failed', 'rejected', 'declined', 'cancelled', 'expired'].includes(status)) {
      return { status: 'failed', reasonCode: 'NARR', reason: `the operator reports the transaction ${status}`, railReference: reference };
    }
    return {
      status: 'pending',
      railReference: reference,
      ...(transaction.type === 'merchantpay' ? { nextAction: { type: 'payer_approval', message: APPROVAL_MESSAGE } as const } : {}),
    };
  }

  // ---------------------------------------------------------------- callbacks

  /**
   * Verifies X-Callback-Signature (./callback-signature.ts) on the exact bytes, then reads what GSMA
   * operators PUT to X-Callback-URL: a transaction (the final representation), an error object (the
   * request failed), a request state, or a batch — for which the batch's completions and rejections are
   * fetched (a RailError then means: answer 5xx so the operator calls back again). The payment is named
   * by `requestingOrganisationTransactionReference` (in the transaction, or in the error's
   * errorParameters), else by the signed X-CorrelationID.
   */
  async parseCallback(request: RailCallbackRequest): Promise<readonly RailNotification[]> {
    if (!Buffer.isBuffer(request.rawBody)) reject('the raw body is missing');
    const signatures = headerValues(request.headers, CALLBACK_SIGNATURE_HEADER);
    const correlationIds = headerValues(request.headers, 'X-CorrelationID');
    if (signatures.length > 1 || correlationIds.length > 1) reject('a signed header appears more than once');
    const [signature] = signatures;
    const [correlationId] = correlationIds;
    const verdict = verifyCallbackSignature(
      this.options.callbackSecret,
      signature,
      correlationId ?? '',
      request.rawBody,
      Math.floor(Date.now() / 1000),
      this.options.callbackToleranceSeconds,
    );
    if (verdict === 'missing') reject(`the ${CALLBACK_SIGNATURE_HEADER} header is missing`);
    if (verdict === 'malformed') reject(`the ${CALLBACK_SIGNATURE_HEADER} header is malformed; expected t=<unix seconds>,v1=<hex HMAC-SHA256>`);
    if (verdict === 'mismatch') reject('the signature does not match (wrong secret, or the body or X-CorrelationID was altered)');
    if (verdict === 'stale') reject(`the signature timestamp is outside the ${this.options.callbackToleranceSeconds} s tolerance (a replay?)`);

    const body = parseJson(request.rawBody.toString('utf8'));
    if (body === undefined || body === null || typeof body !== 'object' || Array.isArray(body)) reject('the body is not a JSON object');
    // The body's own reference wins (the MAC covers it and the header alike); else the X-CorrelationID.
    const keyFor = (hint: string | undefined): string => {
      if (hint !== undefined && hint.length > 0) return hint;
      const fromId = correlationId === undefined ? undefined : (this.keysByCorrelationId.get(correlationId.toLowerCase()) ?? railKeyFromCorrelationId(correlationId));
      if (fromId === undefined) reject('the callback does not say which payment it is about');
      return fromId;
    };

    const batch = BatchSchema.safeParse(body);
    if (batch.success && !('transactionReference' in body)) {
      if (batch.data.batchStatus !== 'completed') return [];
      const results = await this.batchResults(batch.data.batchId);
      return [...results].map(([railKey, outcome]) => ({ railKey, outcome }));
    }
    const transaction = TransactionSchema.safeParse(body);
    if (transaction.success) {
      return [{ railKey: keyFor(transaction.data.requestingOrganisationTransactionReference), outcome: this.outcomeOfTransaction(transaction.data) }];
    }
    const error = GsmaErrorSchema.safeParse(body);
    if (error.success) {
      const parameter = (name: string) => error.data.errorParameters?.find((p) => p.key === name)?.value;
      const reference = parameter('transactionReference') ?? parameter('objectReference');
      const declined = declinedOf(error.data);
      return [{ railKey: keyFor(parameter('requestingOrganisationTransactionReference')), outcome: reference ? { ...declined, railReference: reference } : declined }];
    }
    const state = RequestStateSchema.safeParse(body);
    if (state.success) return [{ railKey: keyFor(undefined), outcome: this.outcomeOfState(state.data) }];
    return reject('the body is neither a GSMA transaction, error object, request state nor batch');
  }

  // ---------------------------------------------------------------- refunds, statements, names

  /**
   * Reverses (part of) a completed payment: `POST /transactions/{transactionReference}/reversals` under
   * X-CorrelationID = correlationIdFor(refundKey), so the same refund key is executed once. An operator
   * refusal (already reversed, more than the payment, …) is a `failed` outcome.
   */
  async refund(railKey: string, amount: Money, refundKey: string): Promise<RailOutcome> {
    this.assertOpen();
    const original = await this.getStatus(railKey);
    if (original.status !== 'completed') throw new Error(`cannot refund ${railKey}: the payment is ${original.status} on the rail`);
    const answer = await this.call('POST', `/transactions/${encodeURIComponent(original.railReference)}/reversals`, {
      body: {
        type: 'reversal',
        amount: toGsmaAmount(amount),
        currency: amount.currency,
        requestingOrganisationTransactionReference: refundKey,
        descriptionText: `Refund of ${railKey}`,
      },
      correlationId: this.remember(refundKey),
    });
    return this.acceptedOutcome(refundKey, answer, 'reversal');
  }

  /**
   * Completed bookings on the disbursement and collection accounts between two ISO dates (inclusive,
   * UTC) or date-times: `GET /accounts/{identifierType}/{identifier}/statemententries`, paged.
   */
  async fetchStatement(range: { readonly from: string; readonly to: string }): Promise<readonly RailStatementEntry[]> {
    this.assertOpen();
    const from = /^\d{4}-\d{2}-\d{2}$/.test(range.from) ? `${range.from}T00:00:00.000Z` : range.from;
    const to = /^\d{4}-\d{2}-\d{2}$/.test(range.to) ? `${range.to}T23:59:59.999Z` : range.to;
    const accounts = [this.options.disbursementAccount];
    if (!sameParty(this.options.collectionAccount, this.options.disbursementAccount)) accounts.push(this.options.collectionAccount);
    const entries: RailStatementEntry[] = [];
    for (const account of accounts) {
      const path = `/accounts/${encodeURIComponent(account.key)}/${encodeURIComponent(account.value)}/statemententries`;
      for (const item of await this.fetchPages(path, 'statement entries', { fromDateTime: from, toDateTime: to })) {
        const parsed = StatementEntrySchema.safeParse(item);
        if (!parsed.success) throw unreadable('a statement entry');
        const entry = parsed.data;
        if (entry.transactionStatus.toLowerCase() !== 'completed') continue;
        const amount = fromGsmaAmount(entry.amount, entry.currency);
        const date = (entry.modificationDate ?? entry.creationDate ?? '').slice(0, 10);
        if (!amount || !/^\d{4}-\d{2}-\d{2}$/.test(date)) throw unreadable('a statement entry (amount or date)');
        const debit = entry.debitParty.some((p) => sameParty(p, account));
        const counterparty = (debit ? entry.creditParty : entry.debitParty)[0]?.value;
        const railKey = entry.requestingOrganisationTransactionReference;
        entries.push({
          ...(railKey ? { railKey } : {}),
          railReference: entry.transactionReference,
          amount,
          direction: debit ? 'debit' : 'credit',
          bookingDate: date,
          valueDate: date,
          ...(counterparty ? { counterparty } : {}),
          reversal: entry.type === 'reversal' || entry.type === 'adjustment' || entry.originalTransactionReference !== undefined,
        });
      }
    }
    return entries;
  }

  /** `GET /accounts/msisdn/{msisdn}/accountname`; undefined for other party types and wallets the operator does not know. */
  async lookupAccountName(party: Party): Promise<string | undefined> {
    this.assertOpen();
    if (party.type !== 'msisdn') return undefined;
    const answer = await this.call('GET', `/accounts/msisdn/${encodeURIComponent(party.value)}/accountname`);
    if (answer.status === 404 && this.errorOf(answer)?.errorCategory === 'identification') return undefined;
    if (answer.status !== 200) throw this.errorFor(answer, this.resolutionOf(answer), 'account name lookup');
    const parsed = AccountNameSchema.safeParse(answer.body);
    if (!parsed.success) throw unreadable('an account name lookup');
    const name = parsed.data.name;
    const full = name?.fullName?.trim() || [name?.firstName, name?.middleName, name?.lastName].filter((part) => part && part.trim()).join(' ');
    return full || undefined;
  }

  async close(): Promise<void> {
    this.closing.abort(new Error('adapter closed'));
  }

  // ---------------------------------------------------------------- HTTP

  /** One API call with a bearer token; a 401 drops the token and the call is made once more with a fresh one. */
  private async call(method: 'GET' | 'POST', path: string, options: { body?: unknown; correlationId?: string; callbackUrl?: string; query?: Record<string, string> } = {}): Promise<Answer> {
    const body = options.body === undefined ? undefined : JSON.stringify(options.body);
    const query = options.query ? `?${new URLSearchParams(options.query)}` : '';
    for (let attempt = 0; ; attempt++) {
      const token = await this.accessToken();
      const headers: Record<string, string> = { accept: 'application/json', authorization: `Bearer ${token}`, 'x-date': new Date().toISOString() };
      if (body !== undefined) headers['content-type'] = 'application/json';
      if (options.correlationId !== undefined) headers['x-correlationid'] = options.correlationId;
      if (options.callbackUrl !== undefined) headers['x-callback-url'] = options.callbackUrl;
      const answer = await this.exchange(method, `${path}${query}`, headers, body);
      if (answer.status !== 401 || attempt > 0) return answer;
      if (this.token?.value === token) this.token = undefined;
    }
  }

  private async accessToken(): Promise<string> {
    if (this.token && Date.now() < this.token.refreshAt) return this.token.value;
    this.tokenRequest ??= this.fetchToken().finally(() => {
      this.tokenRequest = undefined;
    });
    return this.tokenRequest;
  }

  /** A token request never moves money, so every failure of it is `unavailable` (or `retry` when throttled). */
  private async fetchToken(): Promise<string> {
    const basic = Buffer.from(`${encodeURIComponent(this.options.clientId)}:${encodeURIComponent(this.options.clientSecret)}`).toString('base64');
    let answer: Answer;
    try {
      answer = await this.exchange(
        'POST',
        '/oauth/token',
        { accept: 'application/json', authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
        'grant_type=client_credentials',
      );
    } catch (error) {
      if (!isRailError(error)) throw error;
      throw new RailError(error.decision === 'retry' ? 'retry' : 'unavailable', `OAuth token request failed: ${error.message}`, error.railCode);
    }
    if (answer.status !== 200) {
      const oauthError = (answer.body as { error?: unknown } | undefined)?.error;
      const code = typeof oauthError === 'string' ? `oauth_${oauthError}` : `HTTP_${answer.status}`;
      throw new RailError(answer.status === 429 ? 'retry' : 'unavailable', `the operator refused the OAuth token request with HTTP ${answer.status} (${code})`, code);
    }
    const parsed = TokenSchema.safeParse(answer.body);
    if (!parsed.success) throw new RailError('unavailable', 'the operator answered the OAuth token request with an unreadable body', 'oauth_bad_response');
    const lifetimeMs = (parsed.data.expires_in ?? 3600) * 1000;
    this.token = { value: parsed.data.access_token, refreshAt: Date.now() + lifetimeMs - Math.min(30_000, lifetimeMs / 10) };
    return parsed.data.access_token;
  }

  /** One HTTP exchange, body included, under the timeout; failures below HTTP become RailErrors. */
  private async exchange(method: 'GET' | 'POST', path: string, headers: Record<string, string>, body: string | undefined): Promise<Answer> {
    this.assertOpen();
    const signal = AbortSignal.any([AbortSignal.timeout(this.options.timeoutMs), this.closing.signal]);
    try {
      const response = await fetch(`${this.baseUrl}${path}`, { method, headers, body, signal });
      const text = await response.text();
      return { status: response.status, body: parseJson(text), headers: response.headers };
    } catch (error) {
      const where = `GSMA ${method} ${path.split('?')[0]}`;
      if (this.closing.signal.aborted) throw new RailError('unknown', `${where}: adapter closed while the request was in flight`, 'closed');
      const failure = fetchFailureOf(error);
      const resolution = resolveGsmaFailure(failure);
      const decision = resolution.type === 'error' ? resolution.decision : 'unknown';
      const code = failure.kind === 'network' ? failure.code : failure.kind;
      const message = failure.kind === 'timeout' ? `${where}: no answer within ${this.options.timeoutMs} ms` : `${where}: ${code ?? (error instanceof Error ? error.message : String(error))}`;
      throw new RailError(decision, message, code);
    }
  }

  private async fetchPages(path: string, what: string, query: Record<string, string> = {}): Promise<unknown[]> {
    const items: unknown[] = [];
    for (let page = 0, offset = 0; page < MAX_PAGES; page++) {
      const answer = await this.call('GET', path, { query: { ...query, limit: String(PAGE_SIZE), offset: String(offset) } });
      if (answer.status !== 200) throw this.errorFor(answer, this.resolutionOf(answer), what);
      if (!Array.isArray(answer.body)) throw unreadable(what);
      items.push(...answer.body);
      offset += answer.body.length;
      const availableHeader = answer.headers.get('x-records-available-count');
      const available = availableHeader === null ? undefined : Number(availableHeader);
      const done = answer.body.length === 0 || (available !== undefined && Number.isFinite(available) ? offset >= available : answer.body.length < PAGE_SIZE);
      if (done) return items;
    }
    throw new RailError('unknown', `${what}: more than ${MAX_PAGES} pages`, 'too_many_pages');
  }

  private errorOf(answer: Answer): GsmaErrorObject | undefined {
    const parsed = GsmaErrorSchema.safeParse(answer.body);
    return parsed.success ? parsed.data : undefined;
  }

  private resolutionOf(answer: Answer) {
    const error = this.errorOf(answer);
    return resolveGsmaFailure({ kind: 'http', status: answer.status, ...(error ? { error } : {}) } satisfies GsmaFailure);
  }

  /** The error to throw for an answer that is neither success nor a decline of a payment. */
  private errorFor(answer: Answer, resolution: ReturnType<typeof resolveGsmaFailure>, what: string): Error {
    const error = this.errorOf(answer);
    const code = error ? `${error.errorCategory}/${error.errorCode}` : `HTTP_${answer.status}`;
    const detail = error?.errordescription ?? error?.errorDescription;
    const message = `the operator answered the ${what} with HTTP ${answer.status} (${code}${detail ? `: ${detail}` : ''})`;
    return resolution.type === 'error' ? new RailError(resolution.decision, message, code) : new Error(message);
  }

  private readRequestState(body: unknown, what: string): RequestState {
    const parsed = RequestStateSchema.safeParse(body);
    if (!parsed.success) throw unreadable(what);
    return parsed.data;
  }

  /** A link from the operator as a path under baseUrl; undefined when it points elsewhere. */
  private pathOfLink(link: string): string | undefined {
    let url: URL;
    try {
      url = new URL(link, `${this.baseUrl}/`);
    } catch {
      return undefined;
    }
    if (url.origin !== new URL(this.baseUrl).origin) return undefined;
    const path = this.basePath && url.pathname.startsWith(`${this.basePath}/`) ? url.pathname.slice(this.basePath.length) : url.pathname;
    return path;
  }

  private remember(key: string): string {
    const correlationId = correlationIdFor(key);
    this.keysByCorrelationId.set(correlationId.toLowerCase(), key);
    return correlationId;
  }

  private assertServes(payment: RailPayment): void {
    const citizen = payment.kind === 'benefit' ? payment.payee : payment.payer;
    if (citizen.type !== 'msisdn') throw new Error(`gsma-mobile-money cannot serve ${payment.railKey}: the ${payment.kind === 'benefit' ? 'payee' : 'payer'} is a ${citizen.type}, not an msisdn`);
    if (!this.capabilities.currencies.includes(payment.amount.currency)) {
      throw new Error(`gsma-mobile-money cannot serve ${payment.railKey}: ${payment.amount.currency} is not among ${this.capabilities.currencies.join(', ')}`);
    }
  }

  private assertOpen(): void {
    if (this.closing.signal.aborted) throw new Error('GsmaMobileMoneyAdapter is closed');
  }
}

function declinedOf(error: GsmaErrorObject | undefined): Extract<RailOutcome, { status: 'failed' }> {
  if (!error) return { status: 'failed', reasonCode: 'NARR', reason: 'the operator failed the request without an error object' };
  const resolution = resolveGsmaFailure({ kind: 'final', error });
  if (resolution.type !== 'declined') return { status: 'failed', reasonCode: 'NARR', reason: `${error.errorCategory}/${error.errorCode}` };
  return { status: 'failed', reasonCode: resolution.reasonCode, reason: resolution.reason };
}

function sameParty(a: GsmaParty, b: GsmaParty): boolean {
  return a.key.toLowerCase() === b.key.toLowerCase() && a.value === b.value;
}

function unreadable(what: string): RailError {
  // The operator answered, so it may well have acted: inquire.
  return new RailError('unknown', `the operator answered ${what} with an unreadable body`, 'bad_response');
}

function reject(message: string): never {
  throw new RailCallbackRejected(`gsma-mobile-money callback rejected: ${message}`);
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/** A Map that forgets its oldest entries beyond `max`. */
class BoundedMap<K, V> {
  private readonly map = new Map<K, V>();
  constructor(private readonly max: number) {}
  get(key: K): V | undefined {
    return this.map.get(key);
  }
  set(key: K, value: V): void {
    this.map.delete(key);
    this.map.set(key, value);
    if (this.map.size > this.max) this.map.delete(this.map.keys().next().value as K);
  }
  delete(key: K): void {
    this.map.delete(key);
  }
}
