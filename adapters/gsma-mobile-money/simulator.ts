/**
 * A local mobile-money operator speaking the GSMA Mobile Money API (v1.1 paths, v1.2 asynchronous
 * behaviour) over HTTP on loopback, for `kassa start`, the tests and the benchmarks. All state is in
 * memory; nothing is logged per request.
 *
 * Protocol
 * - `POST /oauth/token` (grant_type=client_credentials; client credentials by HTTP Basic or in the form)
 *   → `{ access_token, token_type: 'Bearer', expires_in }`. Every other API path needs
 *   `Authorization: Bearer <token>`; a missing, unknown or expired token → 401
 *   authorisation/clientAuthorisationError.
 * - `POST /transactions/type/{disbursement|merchantpay}` (and `/transactions/type/reversal` with
 *   `originalTransactionReference`, or `POST /transactions/{ref}/reversals`) and `POST /batchtransactions`
 *   need X-CorrelationID (a UUID) and answer 202 with a request state
 *   `{ serverCorrelationId, status: pending|completed|failed, notificationMethod, objectReference, error? }`.
 *   A malformed request is refused at once (400 validation/…) and recorded nowhere.
 * - Idempotency: each X-CorrelationID (a batch item's: `metadata.clientCorrelationId`) is executed at most
 *   once, ever. The same id with the same request (type, amount, currency, parties,
 *   requestingOrganisationTransactionReference) answers the original request state; with a different
 *   one → 400 businessRule/duplicateRequest (a batch item: a rejection), the first execution untouched.
 * - Processing: `completionDelayMs` after acceptance the operator decides. A disbursement completes or
 *   fails; a merchant payment checks the payer's wallet, then waits for the payer's approval
 *   (`approve(id)` / `POST /_sim/approve/:id`, `reject(id)` / `POST /_sim/reject/:id`, or
 *   `autoApproveAfterMs`), failing authorisation/requestDeclined when rejected or after
 *   `approvalExpiryMs`. A batch processes all its new items at once, then completes.
 * - Callbacks: when the request had X-Callback-URL, the final representation is PUT there, signed as
 *   ./callback-signature.ts describes, with X-CorrelationID echoed: a transaction object when it
 *   completed, an error object when it failed (errorParameters carry requestingOrganisationTransactionReference,
 *   transactionReference and serverCorrelationId), a batch object when a batch completed.
 * - Wallets and rules: the government's disbursement account (balance `disbursementBalanceMinor` in every
 *   currency) and collection account (empty); any msisdn is a wallet holding `walletBalanceMinor`, except
 *   by its last four digits: `0000` no such wallet → identification/identifierError; `0001` suspended →
 *   businessRule/incorrectState; `0002` empty (a payer cannot pay: businessRule/insufficientFunds); `0003`
 *   full (cannot receive: businessRule/maxBalanceExceeded). Any debit beyond the balance (the government's
 *   too) → businessRule/insufficientFunds. `setWallet` overrides. Other identifiers are unknown.
 * - Reads: `GET /requeststates/{serverCorrelationId}`; `GET /responses/{X-CorrelationID}` → `{ link }` to
 *   the transaction (completed) or the request state (otherwise), 404 identification/identifierError when
 *   the id was never received; `GET /transactions/{ref}`; `GET /batchtransactions/{id}` and its
 *   `/completions` and `/rejections` (rejectionReason = "<errorCategory>/<errorCode>: <description>");
 *   `GET /accounts/{identifierType}/{identifier}/accountname`; `…/statemententries?fromDateTime&toDateTime`
 *   (completed bookings, by completion time, with the operator extensions type,
 *   requestingOrganisationTransactionReference and originalTransactionReference); `GET /heartbeat`.
 *   Lists take limit (default 50, at most 5000) and offset and send X-Records-Available-Count.
 * - Reversal: of a completed transaction, at most its amount in total, debiting the original payee.
 * - Behaviour (`setBehaviour` or `PUT /_sim/behaviour` `{ mode, delayMs? }`): `normal`; `down` → every API
 *   request (the token endpoint too) gets 503 serviceUnavailable and nothing is executed; `timeout` →
 *   requests that create something are executed but their answer is held `delayMs` (default 60000);
 *   `slow` → every API request waits `delayMs` (default 1000) before it is handled.
 * - Callback mode (`setCallbackMode` or `PUT /_sim/callbacks` `{ mode }`): `normal`; `duplicate` (each
 *   callback is delivered twice); `early` (a disbursement, batch or reversal is processed at once and its
 *   callback delivered before the 202 answer); `never`.
 * - Control (no auth, never affected by behaviour): the above, `GET /_sim/executions/:id` →
 *   `{ id, executions, requests }`, `POST /_sim/revoke-tokens`, `POST /_sim/reset`.
 */
import { randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import express, { type NextFunction, type Request, type Response } from 'express';
import { z } from 'zod';
import { minorUnitsOf } from '../../src/domain/money.ts';
import { CALLBACK_SIGNATURE_HEADER, signCallback } from './callback-signature.ts';
import { GSMA_SIMULATOR_DEFAULTS } from './defaults.ts';
import { fromGsmaAmount, GSMA_AMOUNT_PATTERN, GsmaAccountSchema, toGsmaAmount, UUID_PATTERN, type GsmaParty } from './wire.ts';
import { startSimulatorServer } from '../simulator-server.ts';
import { whenDue } from '../simulator-clock.ts';

export const GsmaBehaviourSchema = z.object({
  mode: z.enum(['normal', 'down', 'timeout', 'slow']),
  delayMs: z.number().int().min(0).max(600_000).optional(),
});
export type GsmaBehaviour = z.infer<typeof GsmaBehaviourSchema>;
export const GsmaCallbackModeSchema = z.enum(['normal', 'duplicate', 'early', 'never']);
export type GsmaCallbackMode = z.infer<typeof GsmaCallbackModeSchema>;

export interface GsmaSimulatorOptions {
  /** 0 (the default) picks a free port. */
  readonly port?: number;
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** Defaults: GSMA_SIMULATOR_DEFAULTS. */
  readonly clientId?: string;
  readonly clientSecret?: string;
  readonly callbackSecret?: string;
  /** "walletid:GOV-DISBURSEMENTS" or { key, value }. */
  readonly disbursementAccount?: string | GsmaParty;
  readonly collectionAccount?: string | GsmaParty;
  /** Access token lifetime; default 3600 s. */
  readonly tokenTtlSeconds?: number;
  /** Delay between accepting a request and deciding it; default 25 ms. */
  readonly completionDelayMs?: number;
  /** Approve every merchant payment this long after its payer check; default: wait for approve(). */
  readonly autoApproveAfterMs?: number;
  /** A merchant payment not approved within this fails; default 120000 ms. */
  readonly approvalExpiryMs?: number;
  /** The disbursement account's opening balance, in minor units of any currency; default 10^15. */
  readonly disbursementBalanceMinor?: bigint;
  /** A citizen wallet's opening balance in minor units; default 10,000,000 (100,000.00). */
  readonly walletBalanceMinor?: bigint;
  /** Currencies served; default: every ISO 4217 currency with minor units. */
  readonly currencies?: readonly string[];
  readonly behaviour?: GsmaBehaviour;
  readonly callbacks?: GsmaCallbackMode;
}

export interface GsmaWalletSettings {
  readonly exists?: boolean;
  readonly status?: 'active' | 'suspended';
  readonly balanceMinor?: bigint;
  readonly maxBalanceMinor?: bigint;
  readonly name?: string;
}

export interface GsmaSimulatorStats {
  readonly tokensIssued: number;
  readonly transactionRequests: number;
  readonly batchRequests: number;
  readonly reversalRequests: number;
  readonly callbacksSent: number;
}

export interface GsmaSimulator {
  /** Base URL, e.g. `http://127.0.0.1:40123`, without a trailing slash. */
  readonly url: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly callbackSecret: string;
  readonly disbursementAccount: GsmaParty;
  readonly collectionAccount: GsmaParty;
  setBehaviour(behaviour: GsmaBehaviour): void;
  setCallbackMode(mode: GsmaCallbackMode): void;
  /** The payer approves a merchant payment (by X-CorrelationID or requestingOrganisationTransactionReference); false when none waits. */
  approve(id: string): boolean;
  reject(id: string): boolean;
  /** How many times the operator executed the id (X-CorrelationID or rail key): 0 or 1. */
  executions(id: string): number;
  /** Executions by rail key (requestingOrganisationTransactionReference), else by X-CorrelationID. */
  executionCounts(): ReadonlyMap<string, number>;
  /** How many requests (batch items included) named the id, duplicates included. */
  requestCount(id: string): number;
  stats(): GsmaSimulatorStats;
  /** Every token issued so far stops working (the next call gets 401). */
  revokeTokens(): void;
  setWallet(msisdn: string, settings: GsmaWalletSettings): void;
  /** A party's balance in minor units; undefined when the operator has no such account. */
  balanceOf(party: GsmaParty, currency: string): bigint | undefined;
  /** Forgets every request, wallet and token and returns to the starting modes; references keep increasing. */
  reset(): void;
  /** Closes promptly, dropping held requests, timers, callbacks in flight and open connections. */
  close(): Promise<void>;
}

interface GsmaError {
  readonly errorCategory: string;
  readonly errorCode: string;
  readonly errordescription: string;
  readonly errorDateTime: string;
}

interface Wallet {
  readonly name: string;
  status: 'active' | 'suspended';
  readonly opening: bigint;
  readonly maxBalance?: bigint;
  readonly balances: Map<string, bigint>;
}

interface SimTransaction {
  readonly transactionReference: string;
  readonly type: string;
  readonly amountMinor: bigint;
  readonly currency: string;
  readonly debitParty: GsmaParty[];
  readonly creditParty: GsmaParty[];
  readonly descriptionText?: string;
  readonly reference?: string;
  readonly originalTransactionReference?: string;
  status: 'pending' | 'completed' | 'failed';
  readonly creationDate: string;
  modificationDate: string;
  /** Epoch ms of the booking, once booked. */
  bookedAt?: number;
  reversedMinor: bigint;
}

interface SimBatch {
  readonly batchId: string;
  readonly title?: string;
  readonly description?: string;
  readonly itemIds: string[];
  readonly localRejections: { reference?: string; reason: string; debitParty: GsmaParty[]; creditParty: GsmaParty[]; date: string }[];
  status: 'created' | 'completed';
  readonly creationDate: string;
  completionDate?: string;
}

interface SimRequest {
  readonly correlationId: string;
  readonly serverCorrelationId: string;
  readonly fingerprint: string;
  readonly kind: 'disbursement' | 'merchantpay' | 'reversal' | 'batch';
  status: 'pending' | 'completed' | 'failed';
  error?: GsmaError;
  readonly tx?: SimTransaction;
  readonly batch?: SimBatch;
  readonly callbackUrl?: string;
  approval?: 'waiting' | 'approved' | 'rejected';
  payerChecked?: boolean;
  expiresAt?: number;
}

const DEFAULT_TIMEOUT_DELAY_MS = 60_000;
const DEFAULT_SLOW_DELAY_MS = 1_000;
const MAX_BATCH_ITEMS = 10_000;
const MAX_PAGE = 5_000;

const PartyArraySchema = z.array(z.object({ key: z.string().min(1).max(256), value: z.string().min(1).max(256) })).min(1).max(10);
const MetadataSchema = z.array(z.object({ key: z.string().min(1).max(256), value: z.string().min(1).max(256) })).max(20);
const TransactionRequestSchema = z.object({
  amount: z.string().regex(GSMA_AMOUNT_PATTERN, 'must be a GSMA amount such as "15.21"'),
  currency: z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code'),
  type: z.string().optional(),
  debitParty: PartyArraySchema,
  creditParty: PartyArraySchema,
  descriptionText: z.string().max(160).optional(),
  requestingOrganisationTransactionReference: z.string().max(256).optional(),
  originalTransactionReference: z.string().max(256).optional(),
  metadata: MetadataSchema.optional(),
});
type TransactionRequest = z.infer<typeof TransactionRequestSchema>;
const BatchRequestSchema = z.object({
  batchTitle: z.string().max(256).optional(),
  batchDescription: z.string().max(256).optional(),
  transactions: z.array(z.unknown()).min(1).max(MAX_BATCH_ITEMS),
});
const ReversalRequestSchema = z.object({
  type: z.enum(['reversal', 'adjustment']),
  amount: z.string().regex(GSMA_AMOUNT_PATTERN).optional(),
  currency: z.string().regex(/^[A-Z]{3}$/).optional(),
  descriptionText: z.string().max(160).optional(),
  requestingOrganisationTransactionReference: z.string().max(256).optional(),
  originalTransactionReference: z.string().max(256).optional(),
});

const FIRST_NAMES = ['Amina', 'Baraka', 'Chebet', 'Daudi', 'Esther', 'Faraji', 'Grace', 'Hamisi', 'Imani', 'Juma'];
const LAST_NAMES = ['Otieno', 'Wanjiru', 'Mwangi', 'Achieng', 'Kamau', 'Njeri', 'Odhiambo', 'Mutua', 'Wekesa', 'Kiprono'];

export async function startGsmaSimulator(options: GsmaSimulatorOptions = {}): Promise<GsmaSimulator> {
  const host = options.host ?? '127.0.0.1';
  const clientId = options.clientId ?? GSMA_SIMULATOR_DEFAULTS.clientId;
  const clientSecret = options.clientSecret ?? GSMA_SIMULATOR_DEFAULTS.clientSecret;
  const callbackSecret = options.callbackSecret ?? GSMA_SIMULATOR_DEFAULTS.callbackSecret;
  const disbursementAccount = GsmaAccountSchema.parse(options.disbursementAccount ?? GSMA_SIMULATOR_DEFAULTS.disbursementAccount);
  const collectionAccount = GsmaAccountSchema.parse(options.collectionAccount ?? GSMA_SIMULATOR_DEFAULTS.collectionAccount);
  const tokenTtlSeconds = options.tokenTtlSeconds ?? 3600;
  const completionDelayMs = options.completionDelayMs ?? 25;
  const approvalExpiryMs = options.approvalExpiryMs ?? 120_000;
  const disbursementBalance = options.disbursementBalanceMinor ?? 10n ** 15n;
  const walletBalance = options.walletBalanceMinor ?? 10_000_000n;
  const currencies = options.currencies ? new Set(options.currencies) : undefined;
  const initialBehaviour = GsmaBehaviourSchema.parse(options.behaviour ?? { mode: 'normal' });
  const initialCallbacks = GsmaCallbackModeSchema.parse(options.callbacks ?? 'normal');
  let behaviour = initialBehaviour;
  let callbackMode = initialCallbacks;

  const tokens = new Map<string, number>();
  const requests = new Map<string, SimRequest>();
  const requestsByServerId = new Map<string, SimRequest>();
  const correlationIdByKey = new Map<string, string>();
  const executionCount = new Map<string, number>();
  const requestCounts = new Map<string, number>();
  const transactions = new Map<string, SimTransaction>();
  const batches = new Map<string, SimRequest>();
  const booked: SimTransaction[] = [];
  const wallets = new Map<string, Wallet | null>();
  const walletOverrides = new Map<string, GsmaWalletSettings>();
  const stats = { tokensIssued: 0, transactionRequests: 0, batchRequests: 0, reversalRequests: 0, callbacksSent: 0 };
  let referenceCounter = 0;

  const timers = new Set<NodeJS.Timeout>();
  let closing = new AbortController();

  function later(delayMs: number, run: () => void): void {
    const timer = setTimeout(() => {
      timers.delete(timer);
      run();
    }, delayMs);
    timers.add(timer);
  }

  /** Answers later unless the client went away or the simulator closed meanwhile. */
  function answerLater(res: Response, delayMs: number, answer: () => void): void {
    const timer = setTimeout(() => {
      timers.delete(timer);
      if (!res.writableEnded && !res.destroyed) answer();
    }, delayMs);
    timers.add(timer);
    res.once('close', () => {
      clearTimeout(timer);
      timers.delete(timer);
    });
  }

  const now = () => new Date().toISOString();
  const errorOf = (errorCategory: string, errorCode: string, errordescription: string): GsmaError => ({ errorCategory, errorCode, errordescription, errorDateTime: now() });
  function sendError(res: Response, status: number, error: GsmaError, errorParameters?: { key: string; value: string }[]): void {
    res.status(status).json(errorParameters && errorParameters.length > 0 ? { ...error, errorParameters } : error);
  }
  const partyKey = (p: GsmaParty) => `${p.key.toLowerCase()}:${p.value}`;
  const sameParty = (a: GsmaParty, b: GsmaParty) => partyKey(a) === partyKey(b);

  // ---------------------------------------------------------------- wallets

  function walletFor(party: GsmaParty): Wallet | undefined {
    const key = partyKey(party);
    const cached = wallets.get(key);
    if (cached !== undefined) return cached ?? undefined;
    let wallet: Wallet | null = null;
    if (sameParty(party, disbursementAccount)) {
      wallet = { name: 'Government disbursements', status: 'active', opening: disbursementBalance, balances: new Map() };
    } else if (sameParty(party, collectionAccount)) {
      wallet = { name: 'Government fees', status: 'active', opening: 0n, balances: new Map() };
    } else if (party.key.toLowerCase() === 'msisdn' && /^\+?\d{7,15}$/.test(party.value)) {
      const override = walletOverrides.get(party.value);
      const suffix = party.value.slice(-4);
      const digits = party.value.replace(/\D/g, '');
      const generatedName = `${FIRST_NAMES[Number(digits.at(-5) ?? 0)]} ${LAST_NAMES[Number(digits.at(-6) ?? 0)]}`;
      const exists = override?.exists ?? suffix !== '0000';
      if (exists) {
        const opening = override?.balanceMinor ?? (suffix === '0002' ? 0n : walletBalance);
        const maxBalance = override?.maxBalanceMinor ?? (suffix === '0003' ? opening : undefined);
        wallet = {
          name: override?.name ?? generatedName,
          status: override?.status ?? (suffix === '0001' ? 'suspended' : 'active'),
          opening,
          ...(maxBalance !== undefined ? { maxBalance } : {}),
          balances: new Map(),
        };
      }
    }
    wallets.set(key, wallet);
    return wallet ?? undefined;
  }

  const balanceOf = (wallet: Wallet, currency: string) => wallet.balances.get(currency) ?? wallet.opening;

  /** Why a transfer cannot be booked, or undefined; checked when the operator decides, not at acceptance. */
  function transferError(tx: SimTransaction): GsmaError | undefined {
    const debit = walletFor(tx.debitParty[0]!);
    const credit = walletFor(tx.creditParty[0]!);
    if (!debit) return errorOf('identification', 'identifierError', 'the debit party is not a known account');
    if (!credit) return errorOf('identification', 'identifierError', 'the credit party is not a known account');
    if (debit === credit) return errorOf('businessRule', 'samePartiesError', 'the debit and credit parties are the same account');
    if (debit.status !== 'active') return errorOf('businessRule', 'incorrectState', 'the debit party account is suspended');
    if (credit.status !== 'active') return errorOf('businessRule', 'incorrectState', 'the credit party account is suspended');
    if (balanceOf(debit, tx.currency) < tx.amountMinor) return errorOf('businessRule', 'insufficientFunds', 'the debit party has insufficient funds');
    if (credit.maxBalance !== undefined && balanceOf(credit, tx.currency) + tx.amountMinor > credit.maxBalance) {
      return errorOf('businessRule', 'maxBalanceExceeded', 'the credit party would exceed its maximum balance');
    }
    return undefined;
  }

  function book(tx: SimTransaction): void {
    const debit = walletFor(tx.debitParty[0]!)!;
    const credit = walletFor(tx.creditParty[0]!)!;
    debit.balances.set(tx.currency, balanceOf(debit, tx.currency) - tx.amountMinor);
    credit.balances.set(tx.currency, balanceOf(credit, tx.currency) + tx.amountMinor);
    tx.status = 'completed';
    tx.bookedAt = Date.now();
    tx.modificationDate = new Date(tx.bookedAt).toISOString();
    booked.push(tx);
  }

  // ---------------------------------------------------------------- requests

  function newTransaction(type: string, body: { currency: string; debitParty: GsmaParty[]; creditParty: GsmaParty[]; descriptionText?: string; reference?: string; original?: string }, amountMinor: bigint): SimTransaction {
    const date = now();
    const tx: SimTransaction = {
      transactionReference: `MM${String(++referenceCounter).padStart(10, '0')}`,
      type,
      amountMinor,
      currency: body.currency,
      debitParty: body.debitParty.map((p) => ({ key: p.key, value: p.value })),
      creditParty: body.creditParty.map((p) => ({ key: p.key, value: p.value })),
      ...(body.descriptionText !== undefined ? { descriptionText: body.descriptionText } : {}),
      ...(body.reference !== undefined ? { reference: body.reference } : {}),
      ...(body.original !== undefined ? { originalTransactionReference: body.original } : {}),
      status: 'pending',
      creationDate: date,
      modificationDate: date,
      reversedMinor: 0n,
    };
    transactions.set(tx.transactionReference, tx);
    return tx;
  }

  function register(request: SimRequest, railKey: string | undefined): SimRequest {
    requests.set(request.correlationId.toLowerCase(), request);
    requestsByServerId.set(request.serverCorrelationId, request);
    if (railKey) correlationIdByKey.set(railKey, request.correlationId.toLowerCase());
    if (request.kind !== 'batch') executionCount.set(request.correlationId.toLowerCase(), (executionCount.get(request.correlationId.toLowerCase()) ?? 0) + 1);
    return request;
  }

  function countRequest(correlationId: string): void {
    const key = correlationId.toLowerCase();
    requestCounts.set(key, (requestCounts.get(key) ?? 0) + 1);
  }

  function lookup(id: string): SimRequest | undefined {
    return requests.get(id.toLowerCase()) ?? requests.get(correlationIdByKey.get(id) ?? '');
  }

  const fingerprintOf = (type: string, amountMinor: bigint, currency: string, debit: GsmaParty[], credit: GsmaParty[], reference: string | undefined) =>
    `${type}|${amountMinor}|${currency}|${debit.map(partyKey).join(',')}|${credit.map(partyKey).join(',')}|${reference ?? ''}`;

  function fail(request: SimRequest, error: GsmaError): void {
    request.status = 'failed';
    request.error = error;
    if (request.tx) {
      request.tx.status = 'failed';
      request.tx.modificationDate = now();
    }
  }

  function settleTransfer(request: SimRequest): void {
    if (request.status !== 'pending' || !request.tx) return;
    const error = transferError(request.tx);
    if (error) fail(request, error);
    else {
      book(request.tx);
      request.status = 'completed';
    }
  }

  function settleReversal(request: SimRequest): void {
    const tx = request.tx!;
    if (request.status !== 'pending') return;
    const original = transactions.get(tx.originalTransactionReference ?? '');
    if (!original || original.status !== 'completed') return fail(request, errorOf('businessRule', 'incorrectState', 'only a completed transaction can be reversed'));
    if (tx.currency !== original.currency) return fail(request, errorOf('validation', 'currencyNotSupported', 'a reversal is in the currency of the original transaction'));
    if (tx.amountMinor > original.amountMinor - original.reversedMinor) {
      return fail(request, errorOf('businessRule', 'overPaymentNotAllowed', 'the reversal exceeds what remains of the original transaction'));
    }
    const error = transferError(tx);
    if (error) return fail(request, error);
    original.reversedMinor += tx.amountMinor;
    book(tx);
    request.status = 'completed';
  }

  /** A merchant payment after its payer check, or after the payer answered. */
  function advanceMerchantPayment(request: SimRequest): void {
    if (request.status !== 'pending' || !request.payerChecked) return;
    if (request.approval === 'approved') settleTransfer(request);
    else if (request.approval === 'rejected') fail(request, errorOf('authorisation', 'requestDeclined', 'the payer declined the payment'));
    else if (request.expiresAt !== undefined && Date.now() >= request.expiresAt) fail(request, errorOf('authorisation', 'requestDeclined', 'the payer did not approve in time'));
    if (request.status !== 'pending') void notify(request);
  }

  function checkPayer(request: SimRequest): void {
    if (request.status !== 'pending') return;
    const payer = walletFor(request.tx!.debitParty[0]!);
    if (!payer) fail(request, errorOf('identification', 'identifierError', 'the payer has no wallet'));
    else if (payer.status !== 'active') fail(request, errorOf('businessRule', 'incorrectState', 'the payer wallet is suspended'));
    if (request.status !== 'pending') {
      void notify(request);
      return;
    }
    request.payerChecked = true;
    request.expiresAt = Date.now() + approvalExpiryMs;
    whenDue(request.expiresAt, () => advanceMerchantPayment(request), timers);
    if (options.autoApproveAfterMs !== undefined && request.approval === 'waiting') later(options.autoApproveAfterMs, () => answerPayer(request, 'approved'));
    advanceMerchantPayment(request);
  }

  function answerPayer(request: SimRequest | undefined, answer: 'approved' | 'rejected'): boolean {
    if (!request || request.kind !== 'merchantpay' || request.status !== 'pending' || request.approval !== 'waiting') return false;
    request.approval = answer;
    advanceMerchantPayment(request);
    return true;
  }

  function processBatch(request: SimRequest, newItems: readonly SimRequest[]): void {
    for (const item of newItems) settleTransfer(item);
    request.status = 'completed';
    request.batch!.status = 'completed';
    request.batch!.completionDate = now();
  }

  /** Schedules the operator's decision; in `early` callback mode decides now and returns the callback to await. */
  function schedule(request: SimRequest, decide: () => void): Promise<void> | undefined {
    if (callbackMode === 'early' && request.kind !== 'merchantpay' && request.callbackUrl) {
      decide();
      return notify(request);
    }
    later(completionDelayMs, () => {
      decide();
      if (request.kind !== 'merchantpay') void notify(request);
    });
    return undefined;
  }

  // ---------------------------------------------------------------- representations

  function stateOf(request: SimRequest) {
    const objectReference = request.batch?.batchId ?? request.tx?.transactionReference;
    return {
      serverCorrelationId: request.serverCorrelationId,
      status: request.status,
      notificationMethod: request.callbackUrl ? 'callback' : 'polling',
      ...(objectReference ? { objectReference } : {}),
      ...(request.status === 'pending' && request.kind === 'merchantpay' ? { pendingReason: 'awaiting payer approval' } : {}),
      ...(request.status === 'pending' && request.expiresAt !== undefined ? { expiryTime: new Date(request.expiresAt).toISOString() } : {}),
      ...(request.error ? { error: request.error } : {}),
    };
  }

  function transactionOf(tx: SimTransaction) {
    return {
      transactionReference: tx.transactionReference,
      transactionStatus: tx.status,
      type: tx.type,
      amount: toGsmaAmount({ minor: tx.amountMinor, currency: tx.currency }),
      currency: tx.currency,
      debitParty: tx.debitParty,
      creditParty: tx.creditParty,
      ...(tx.descriptionText !== undefined ? { descriptionText: tx.descriptionText } : {}),
      ...(tx.reference !== undefined ? { requestingOrganisationTransactionReference: tx.reference } : {}),
      ...(tx.originalTransactionReference !== undefined ? { originalTransactionReference: tx.originalTransactionReference } : {}),
      creationDate: tx.creationDate,
      modificationDate: tx.modificationDate,
    };
  }

  function batchOf(request: SimRequest) {
    const batch = request.batch!;
    let completed = 0;
    let failed = batch.localRejections.length;
    for (const id of batch.itemIds) {
      const status = requests.get(id)?.status;
      if (status === 'completed') completed++;
      else if (status === 'failed') failed++;
    }
    return {
      batchId: batch.batchId,
      batchStatus: batch.status,
      ...(batch.title !== undefined ? { batchTitle: batch.title } : {}),
      ...(batch.description !== undefined ? { batchDescription: batch.description } : {}),
      processingFlag: batch.status !== 'completed',
      creationDate: batch.creationDate,
      approvalDate: batch.creationDate,
      ...(batch.completionDate ? { completionDate: batch.completionDate } : {}),
      parsingSuccessCount: batch.itemIds.length,
      completedCount: completed,
      rejectionCount: failed,
    };
  }

  // ---------------------------------------------------------------- callbacks

  function notify(request: SimRequest): Promise<void> {
    if (!request.callbackUrl || callbackMode === 'never' || request.status === 'pending') return Promise.resolve();
    let payload: unknown;
    if (request.batch) payload = batchOf(request);
    else if (request.status === 'completed') payload = transactionOf(request.tx!);
    else {
      const parameters = [{ key: 'serverCorrelationId', value: request.serverCorrelationId }];
      if (request.tx?.reference) parameters.push({ key: 'requestingOrganisationTransactionReference', value: request.tx.reference });
      if (request.tx) parameters.push({ key: 'transactionReference', value: request.tx.transactionReference });
      payload = { ...request.error!, errorParameters: parameters };
    }
    return deliver(request.callbackUrl, request.correlationId, JSON.stringify(payload), callbackMode === 'duplicate' ? 2 : 1);
  }

  async function deliver(url: string, correlationId: string, rawBody: string, times: number): Promise<void> {
    const headers = {
      'content-type': 'application/json',
      'x-correlationid': correlationId,
      'x-date': now(),
      [CALLBACK_SIGNATURE_HEADER.toLowerCase()]: signCallback(callbackSecret, correlationId, rawBody, Math.floor(Date.now() / 1000)),
    };
    for (let i = 0; i < times && !closing.signal.aborted; i++) {
      try {
        const response = await fetch(url, { method: 'PUT', headers, body: rawBody, signal: AbortSignal.any([AbortSignal.timeout(5_000), closing.signal]) });
        await response.arrayBuffer();
        stats.callbacksSent++;
      } catch {
        // The client's endpoint is down or slow: it will poll.
      }
    }
  }

  // ---------------------------------------------------------------- HTTP

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(express.json({ limit: '32mb' }));
  app.use(express.urlencoded({ extended: false, limit: '16kb' }));

  // Control endpoints: no auth, not affected by behaviour.
  app.put('/_sim/behaviour', (req, res) => {
    const parsed = GsmaBehaviourSchema.safeParse(req.body);
    if (!parsed.success) return sendError(res, 400, errorOf('validation', 'formatError', parsed.error.issues[0]?.message ?? 'invalid behaviour'));
    behaviour = parsed.data;
    res.status(204).end();
  });
  app.put('/_sim/callbacks', (req, res) => {
    const parsed = GsmaCallbackModeSchema.safeParse((req.body as { mode?: unknown } | undefined)?.mode);
    if (!parsed.success) return sendError(res, 400, errorOf('validation', 'formatError', 'mode must be normal, duplicate, early or never'));
    callbackMode = parsed.data;
    res.status(204).end();
  });
  app.post('/_sim/approve/:id', (req, res) => {
    res.status(answerPayer(lookup(req.params.id), 'approved') ? 204 : 404).end();
  });
  app.post('/_sim/reject/:id', (req, res) => {
    res.status(answerPayer(lookup(req.params.id), 'rejected') ? 204 : 404).end();
  });
  app.get('/_sim/executions/:id', (req, res) => {
    res.json({ id: req.params.id, executions: executions(req.params.id), requests: requestCountOf(req.params.id) });
  });
  app.post('/_sim/revoke-tokens', (_req, res) => {
    tokens.clear();
    res.status(204).end();
  });
  app.post('/_sim/reset', (_req, res) => {
    reset();
    res.status(204).end();
  });

  // Behaviour applies to everything below.
  app.use((req, res, next) => {
    const b = behaviour;
    if (b.mode === 'down') return sendError(res, 503, errorOf('serviceUnavailable', 'genericError', 'the operator is down for maintenance'));
    if (b.mode === 'slow') {
      const timer = setTimeout(() => {
        timers.delete(timer);
        if (!res.destroyed) next();
      }, b.delayMs ?? DEFAULT_SLOW_DELAY_MS);
      timers.add(timer);
      return;
    }
    next();
  });

  app.post('/oauth/token', (req, res) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    let id = typeof body.client_id === 'string' ? body.client_id : undefined;
    let secret = typeof body.client_secret === 'string' ? body.client_secret : undefined;
    const basic = /^Basic\s+(.+)$/i.exec(req.get('authorization') ?? '');
    if (basic) {
      const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      try {
        id = decodeURIComponent(decoded.slice(0, colon));
        secret = decodeURIComponent(decoded.slice(colon + 1));
      } catch {
        id = undefined;
      }
    }
    if (body.grant_type !== 'client_credentials') return res.status(400).json({ error: 'unsupported_grant_type' });
    if (id === undefined || secret === undefined || !equal(id, clientId) || !equal(secret, clientSecret)) return res.status(401).json({ error: 'invalid_client' });
    const token = randomBytes(24).toString('base64url');
    const expiresAt = Date.now() + tokenTtlSeconds * 1000;
    if (tokens.size > 10_000) for (const [t, at] of tokens) if (at <= Date.now()) tokens.delete(t);
    tokens.set(token, expiresAt);
    stats.tokensIssued++;
    res.set('cache-control', 'no-store').json({ access_token: token, token_type: 'Bearer', expires_in: tokenTtlSeconds });
  });

  app.use((req, res, next) => {
    const bearer = /^Bearer\s+(\S+)$/i.exec(req.get('authorization') ?? '');
    const expiresAt = bearer ? tokens.get(bearer[1]!) : undefined;
    if (expiresAt === undefined || expiresAt <= Date.now()) {
      return sendError(res, 401, errorOf('authorisation', 'clientAuthorisationError', 'the access token is missing, unknown or expired'));
    }
    next();
  });

  app.get('/heartbeat', (_req, res) => {
    res.json({ serviceStatus: 'available' });
  });

  /** Answers an accepted request: 202 and its request state, held in `timeout` mode. */
  function answerAccepted(res: Response, request: SimRequest): void {
    const send = () => res.status(202).json(stateOf(request));
    const b = behaviour;
    if (b.mode === 'timeout') answerLater(res, b.delayMs ?? DEFAULT_TIMEOUT_DELAY_MS, send);
    else send();
  }

  /** The X-CorrelationID and X-Callback-URL of a creating request, or an answer refusing them. */
  function headersOf(req: Request, res: Response): { correlationId: string; callbackUrl?: string } | undefined {
    const correlationId = req.get('x-correlationid');
    if (!correlationId) return void sendError(res, 400, errorOf('validation', 'mandatoryValueNotSupplied', 'X-CorrelationID is required'));
    if (!UUID_PATTERN.test(correlationId)) return void sendError(res, 400, errorOf('validation', 'formatError', 'X-CorrelationID must be a UUID'));
    const callbackUrl = req.get('x-callback-url');
    if (callbackUrl !== undefined && !/^https?:\/\/\S+$/.test(callbackUrl)) return void sendError(res, 400, errorOf('validation', 'formatError', 'X-Callback-URL must be an http(s) URL'));
    return { correlationId, ...(callbackUrl ? { callbackUrl } : {}) };
  }

  function amountOf(amount: string, currency: string): { minor: bigint } | GsmaError {
    if (minorUnitsOf(currency) === undefined || (currencies && !currencies.has(currency))) return errorOf('validation', 'currencyNotSupported', `${currency} is not supported`);
    const money = fromGsmaAmount(amount, currency);
    if (!money) return errorOf('validation', 'formatError', `the amount has more decimals than ${currency} allows`);
    if (money.minor === 0n) return errorOf('businessRule', 'lessThanTransactionMinValue', 'the amount must be greater than zero');
    return money;
  }

  app.post('/transactions/type/:type', async (req, res) => {
    const type = req.params.type;
    if (type === 'reversal') return createReversal(req, res, (req.body as { originalTransactionReference?: unknown } | undefined)?.originalTransactionReference);
    stats.transactionRequests++;
    const headers = headersOf(req, res);
    if (!headers) return;
    if (type !== 'disbursement' && type !== 'merchantpay') return sendError(res, 400, errorOf('businessRule', 'transactionTypeError', `this operator does not offer ${type} through this API`));
    const parsed = TransactionRequestSchema.safeParse(req.body);
    if (!parsed.success) return sendError(res, 400, errorOf('validation', 'formatError', 'the request body is not valid'), issuesOf(parsed.error));
    const body = parsed.data;
    if (body.type !== undefined && body.type !== type) return sendError(res, 400, errorOf('validation', 'formatError', 'type does not match the path'));
    const amount = amountOf(body.amount, body.currency);
    if (!('minor' in amount)) return sendError(res, 400, amount);

    countRequest(headers.correlationId);
    const fingerprint = fingerprintOf(type, amount.minor, body.currency, body.debitParty, body.creditParty, body.requestingOrganisationTransactionReference);
    const existing = requests.get(headers.correlationId.toLowerCase());
    if (existing) {
      if (existing.fingerprint !== fingerprint) return sendError(res, 400, errorOf('businessRule', 'duplicateRequest', 'this X-CorrelationID was already used for a different request'));
      return answerAccepted(res, existing);
    }
    const tx = newTransaction(type, { ...body, reference: body.requestingOrganisationTransactionReference }, amount.minor);
    const request = register(
      {
        correlationId: headers.correlationId,
        serverCorrelationId: randomUUID(),
        fingerprint,
        kind: type,
        status: 'pending',
        tx,
        ...(headers.callbackUrl ? { callbackUrl: headers.callbackUrl } : {}),
        ...(type === 'merchantpay' ? { approval: 'waiting' as const } : {}),
      },
      body.requestingOrganisationTransactionReference,
    );
    const early = schedule(request, () => (type === 'merchantpay' ? checkPayer(request) : settleTransfer(request)));
    if (early) await early;
    answerAccepted(res, request);
  });

  app.post('/transactions/:ref/reversals', (req, res) => createReversal(req, res, req.params.ref));

  async function createReversal(req: Request, res: Response, originalReference: unknown): Promise<void> {
    stats.reversalRequests++;
    const headers = headersOf(req, res);
    if (!headers) return;
    const parsed = ReversalRequestSchema.safeParse(req.body);
    if (!parsed.success) return sendError(res, 400, errorOf('validation', 'formatError', 'the request body is not valid'), issuesOf(parsed.error));
    const original = typeof originalReference === 'string' ? transactions.get(originalReference) : undefined;
    if (!original) return sendError(res, 404, errorOf('identification', 'identifierError', 'no such original transaction'));
    const body = parsed.data;
    const currency = body.currency ?? original.currency;
    const amount = body.amount === undefined ? { minor: original.amountMinor - original.reversedMinor } : amountOf(body.amount, currency);
    if (!('minor' in amount)) return sendError(res, 400, amount);

    countRequest(headers.correlationId);
    const fingerprint = fingerprintOf(`reversal:${original.transactionReference}`, amount.minor, currency, original.creditParty, original.debitParty, body.requestingOrganisationTransactionReference);
    const existing = requests.get(headers.correlationId.toLowerCase());
    if (existing) {
      if (existing.fingerprint !== fingerprint) return sendError(res, 400, errorOf('businessRule', 'duplicateRequest', 'this X-CorrelationID was already used for a different request'));
      return answerAccepted(res, existing);
    }
    const tx = newTransaction(
      body.type,
      {
        currency,
        debitParty: original.creditParty,
        creditParty: original.debitParty,
        ...(body.descriptionText !== undefined ? { descriptionText: body.descriptionText } : {}),
        ...(body.requestingOrganisationTransactionReference !== undefined ? { reference: body.requestingOrganisationTransactionReference } : {}),
        original: original.transactionReference,
      },
      amount.minor,
    );
    const request = register(
      {
        correlationId: headers.correlationId,
        serverCorrelationId: randomUUID(),
        fingerprint,
        kind: 'reversal',
        status: 'pending',
        tx,
        ...(headers.callbackUrl ? { callbackUrl: headers.callbackUrl } : {}),
      },
      body.requestingOrganisationTransactionReference,
    );
    const early = schedule(request, () => settleReversal(request));
    if (early) await early;
    answerAccepted(res, request);
  }

  app.post('/batchtransactions', async (req, res) => {
    stats.batchRequests++;
    const headers = headersOf(req, res);
    if (!headers) return;
    const parsed = BatchRequestSchema.safeParse(req.body);
    if (!parsed.success) return sendError(res, 400, errorOf('validation', 'formatError', 'the batch is not valid'), issuesOf(parsed.error));
    const items = parsed.data.transactions.map((raw) => TransactionRequestSchema.safeParse(raw));
    const invalid = items.findIndex((item) => !item.success);
    if (invalid >= 0) {
      const error = items[invalid]!.error!;
      return sendError(res, 400, errorOf('validation', 'formatError', `transaction ${invalid} is not valid`), issuesOf(error, `transactions.${invalid}`));
    }
    const bodies = items.map((item) => item.data!);
    const itemFingerprints = bodies.map((b) => {
      const amount = fromGsmaAmount(b.amount, b.currency);
      return fingerprintOf(b.type ?? 'disbursement', amount?.minor ?? -1n, b.currency, b.debitParty, b.creditParty, b.requestingOrganisationTransactionReference);
    });
    const fingerprint = [...itemFingerprints].sort().join('\n');
    const existing = requests.get(headers.correlationId.toLowerCase());
    if (existing) {
      if (existing.fingerprint !== fingerprint) return sendError(res, 400, errorOf('businessRule', 'duplicateRequest', 'this X-CorrelationID was already used for a different batch'));
      for (const body of bodies) {
        const itemId = body.metadata?.find((m) => m.key === 'clientCorrelationId')?.value;
        if (itemId !== undefined) countRequest(itemId);
      }
      return answerAccepted(res, existing);
    }

    const created = now();
    const batch: SimBatch = {
      batchId: `BATCH${String(++referenceCounter).padStart(10, '0')}`,
      ...(parsed.data.batchTitle !== undefined ? { title: parsed.data.batchTitle } : {}),
      ...(parsed.data.batchDescription !== undefined ? { description: parsed.data.batchDescription } : {}),
      itemIds: [],
      localRejections: [],
      status: 'created',
      creationDate: created,
    };
    const newItems: SimRequest[] = [];
    const rejectItem = (body: TransactionRequest, error: GsmaError) =>
      batch.localRejections.push({
        ...(body.requestingOrganisationTransactionReference !== undefined ? { reference: body.requestingOrganisationTransactionReference } : {}),
        reason: `${error.errorCategory}/${error.errorCode}: ${error.errordescription}`,
        debitParty: body.debitParty,
        creditParty: body.creditParty,
        date: created,
      });
    for (let i = 0; i < bodies.length; i++) {
      const body = bodies[i]!;
      const type = body.type ?? 'disbursement';
      const itemId = body.metadata?.find((m) => m.key === 'clientCorrelationId')?.value;
      if (type !== 'disbursement') {
        rejectItem(body, errorOf('businessRule', 'transactionTypeError', 'a batch carries disbursements only'));
        continue;
      }
      if (itemId === undefined || !UUID_PATTERN.test(itemId)) {
        rejectItem(body, errorOf('validation', 'mandatoryValueNotSupplied', 'each transaction needs a UUID in metadata clientCorrelationId'));
        continue;
      }
      const amount = amountOf(body.amount, body.currency);
      if (!('minor' in amount)) {
        rejectItem(body, amount);
        continue;
      }
      countRequest(itemId);
      const seen = requests.get(itemId.toLowerCase());
      if (seen) {
        if (seen.fingerprint === itemFingerprints[i]) batch.itemIds.push(itemId.toLowerCase());
        else rejectItem(body, errorOf('businessRule', 'duplicateRequest', 'this clientCorrelationId was already used for a different transaction'));
        continue;
      }
      const tx = newTransaction(type, { ...body, reference: body.requestingOrganisationTransactionReference }, amount.minor);
      const item = register(
        { correlationId: itemId, serverCorrelationId: randomUUID(), fingerprint: itemFingerprints[i]!, kind: 'disbursement', status: 'pending', tx },
        body.requestingOrganisationTransactionReference,
      );
      batch.itemIds.push(itemId.toLowerCase());
      newItems.push(item);
    }
    const request: SimRequest = register(
      {
        correlationId: headers.correlationId,
        serverCorrelationId: randomUUID(),
        fingerprint,
        kind: 'batch',
        status: 'pending',
        batch,
        ...(headers.callbackUrl ? { callbackUrl: headers.callbackUrl } : {}),
      },
      undefined,
    );
    batches.set(batch.batchId, request);
    const early = schedule(request, () => processBatch(request, newItems));
    if (early) await early;
    answerAccepted(res, request);
  });

  app.get('/requeststates/:id', (req, res) => {
    const request = requestsByServerId.get(req.params.id);
    if (!request) return sendError(res, 404, errorOf('identification', 'identifierError', 'no request state with this serverCorrelationId'));
    res.json(stateOf(request));
  });

  app.get('/responses/:id', (req, res) => {
    const request = requests.get(req.params.id.toLowerCase());
    if (!request) return sendError(res, 404, errorOf('identification', 'identifierError', 'no request was received with this X-CorrelationID'));
    let link = `/requeststates/${request.serverCorrelationId}`;
    if (request.status === 'completed') link = request.batch ? `/batchtransactions/${request.batch.batchId}` : `/transactions/${request.tx!.transactionReference}`;
    res.json({ link });
  });

  app.get('/transactions/:ref', (req, res) => {
    const tx = transactions.get(req.params.ref);
    if (!tx) return sendError(res, 404, errorOf('identification', 'identifierError', 'no such transaction'));
    res.json(transactionOf(tx));
  });

  app.get('/batchtransactions/:id', (req, res) => {
    const request = batches.get(req.params.id);
    if (!request) return sendError(res, 404, errorOf('identification', 'identifierError', 'no such batch'));
    res.json(batchOf(request));
  });

  app.get('/batchtransactions/:id/completions', (req, res) => {
    const request = batches.get(req.params.id);
    if (!request) return sendError(res, 404, errorOf('identification', 'identifierError', 'no such batch'));
    const completions = [];
    for (const id of request.batch!.itemIds) {
      const tx = requests.get(id)?.tx;
      if (tx?.status !== 'completed') continue;
      completions.push({
        transactionReference: tx.transactionReference,
        ...(tx.reference !== undefined ? { requestingOrganisationTransactionReference: tx.reference } : {}),
        completionDate: tx.modificationDate,
        link: `/transactions/${tx.transactionReference}`,
        debitParty: tx.debitParty,
        creditParty: tx.creditParty,
      });
    }
    sendPage(req, res, completions);
  });

  app.get('/batchtransactions/:id/rejections', (req, res) => {
    const request = batches.get(req.params.id);
    if (!request) return sendError(res, 404, errorOf('identification', 'identifierError', 'no such batch'));
    const batch = request.batch!;
    const rejections = batch.localRejections.map((r) => ({
      ...(r.reference !== undefined ? { requestingOrganisationTransactionReference: r.reference } : {}),
      rejectionReason: r.reason,
      rejectionDate: r.date,
      debitParty: r.debitParty,
      creditParty: r.creditParty,
    }));
    for (const id of batch.itemIds) {
      const item = requests.get(id);
      if (item?.status !== 'failed' || !item.tx || !item.error) continue;
      rejections.push({
        transactionReference: item.tx.transactionReference,
        ...(item.tx.reference !== undefined ? { requestingOrganisationTransactionReference: item.tx.reference } : {}),
        rejectionReason: `${item.error.errorCategory}/${item.error.errorCode}: ${item.error.errordescription}`,
        rejectionDate: item.tx.modificationDate,
        debitParty: item.tx.debitParty,
        creditParty: item.tx.creditParty,
      } as (typeof rejections)[number]);
    }
    sendPage(req, res, rejections);
  });

  app.get('/accounts/:type/:id/accountname', (req, res) => {
    const wallet = walletFor({ key: req.params.type, value: req.params.id });
    if (!wallet) return sendError(res, 404, errorOf('identification', 'identifierError', 'no such account'));
    const [firstName, ...rest] = wallet.name.split(' ');
    res.json({ name: { firstName, ...(rest.length > 0 ? { lastName: rest.join(' ') } : {}), fullName: wallet.name } });
  });

  app.get('/accounts/:type/:id/statemententries', (req, res) => {
    const party = { key: req.params.type, value: req.params.id };
    if (!walletFor(party)) return sendError(res, 404, errorOf('identification', 'identifierError', 'no such account'));
    const from = typeof req.query.fromDateTime === 'string' ? Date.parse(req.query.fromDateTime) : -Infinity;
    const to = typeof req.query.toDateTime === 'string' ? Date.parse(req.query.toDateTime) : Infinity;
    if (Number.isNaN(from) || Number.isNaN(to)) return sendError(res, 400, errorOf('validation', 'formatError', 'fromDateTime and toDateTime must be date-times'));
    const key = partyKey(party);
    const matching = booked.filter((tx) => {
      const at = tx.bookedAt!;
      return at >= from && at <= to && (partyKey(tx.debitParty[0]!) === key || partyKey(tx.creditParty[0]!) === key);
    });
    sendPage(req, res, matching, (tx) => ({ ...transactionOf(tx), transactionStatus: 'completed', displayType: tx.type }));
  });

  /** One page of `all`, only the page's items represented. */
  function sendPage<T>(req: Request, res: Response, all: readonly T[], represent: (item: T) => unknown = (item) => item): void {
    const limit = pageNumber(req.query.limit, 50);
    const offset = pageNumber(req.query.offset, 0);
    if (limit === undefined || offset === undefined || limit < 1) return sendError(res, 400, errorOf('validation', 'invalidOffset', 'limit and offset must be whole numbers, limit at least 1'));
    const page = all.slice(offset, offset + Math.min(limit, MAX_PAGE)).map(represent);
    res.set('x-records-available-count', String(all.length)).set('x-records-returned-count', String(page.length)).json(page);
  }

  app.use((_req: Request, res: Response) => {
    sendError(res, 404, errorOf('validation', 'genericError', 'no such endpoint'));
  });

  app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const e = error as { status?: unknown };
    const status = typeof e.status === 'number' && e.status >= 400 && e.status < 600 ? e.status : 500;
    if (status === 400) sendError(res, 400, errorOf('validation', 'formatError', 'the body is not valid JSON'));
    else if (status === 413) sendError(res, 413, errorOf('validation', 'lengthError', 'the body is too large'));
    else sendError(res, status, errorOf('internal', 'genericError', 'internal error'));
  });

  // ---------------------------------------------------------------- lifecycle

  function executions(id: string): number {
    const correlationId = lookup(id)?.correlationId.toLowerCase() ?? id.toLowerCase();
    return executionCount.get(correlationId) ?? 0;
  }

  function requestCountOf(id: string): number {
    const correlationId = lookup(id)?.correlationId.toLowerCase() ?? id.toLowerCase();
    return requestCounts.get(correlationId) ?? 0;
  }

  function clearTimers(): void {
    for (const timer of timers) clearTimeout(timer);
    timers.clear();
  }

  function reset(): void {
    clearTimers();
    closing.abort();
    closing = new AbortController();
    for (const map of [tokens, requests, requestsByServerId, correlationIdByKey, executionCount, requestCounts, transactions, batches, wallets, walletOverrides] as Map<unknown, unknown>[]) map.clear();
    booked.length = 0;
    Object.assign(stats, { tokensIssued: 0, transactionRequests: 0, batchRequests: 0, reversalRequests: 0, callbacksSent: 0 });
    behaviour = initialBehaviour;
    callbackMode = initialCallbacks;
  }

  const listening = await startSimulatorServer(app, { port: options.port, host });
  let closed: Promise<void> | undefined;

  return {
    url: listening.url,
    clientId,
    clientSecret,
    callbackSecret,
    disbursementAccount,
    collectionAccount,
    setBehaviour(next) {
      behaviour = GsmaBehaviourSchema.parse(next);
    },
    setCallbackMode(mode) {
      callbackMode = GsmaCallbackModeSchema.parse(mode);
    },
    approve: (id) => answerPayer(lookup(id), 'approved'),
    reject: (id) => answerPayer(lookup(id), 'rejected'),
    executions,
    executionCounts() {
      const counts = new Map<string, number>();
      for (const [correlationId, count] of executionCount) counts.set(requests.get(correlationId)?.tx?.reference ?? correlationId, count);
      return counts;
    },
    requestCount: requestCountOf,
    stats: () => ({ ...stats }),
    revokeTokens() {
      tokens.clear();
    },
    setWallet(msisdn, settings) {
      walletOverrides.set(msisdn, settings);
      wallets.delete(partyKey({ key: 'msisdn', value: msisdn }));
    },
    balanceOf(party, currency) {
      const wallet = walletFor(party);
      return wallet ? balanceOf(wallet, currency) : undefined;
    },
    reset,
    close() {
      closed ??= new Promise<void>((resolve) => {
        clearTimers();
        closing.abort();
        void listening.stop().then(resolve);
      });
      return closed;
    },
  };
}

function issuesOf(error: z.ZodError, prefix?: string): { key: string; value: string }[] {
  return error.issues.slice(0, 20).map((issue) => ({ key: [prefix, ...issue.path].filter((p) => p !== undefined).join('.') || '(body)', value: issue.message.slice(0, 256) || 'invalid' }));
}

function pageNumber(value: unknown, fallback: number): number | undefined {
  if (value === undefined) return fallback;
  return typeof value === 'string' && /^\d{1,9}$/.test(value) ? Number(value) : undefined;
}

function equal(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
