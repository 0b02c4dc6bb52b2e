/**
 * Sandbox rail simulator: a local payment rail over HTTP on loopback, used by `kassa start`, the
 * pipeline fault tests and the benchmarks. All state is in memory; nothing is logged per request.
 *
 * Protocol
 * - `POST /v1/transfers` body `{ transfers: [{ key, kind: 'fee'|'benefit', amount_minor: "<positive
 *   integer string>", currency, payer: { type, value, institution? }, payee: {…}, reference,
 *   callback_url? }] }` (1..2000 items) → 200 `{ results: [{ key, status: 'completed'|'pending'|'failed',
 *   rail_reference?, reason_code?, reason? }] }`, one result per item, in order. A malformed body → 400
 *   problem JSON.
 * - Idempotency: each `key` is executed at most once, ever. A repeated key with the same payment
 *   (kind, amount, currency, payer, payee) is not executed again: it answers the key's current
 *   state. A repeated key with a different payment is answered `failed` with reason_code `DU05`
 *   (ISO 20022 "duplicate instruction id") and no rail_reference; the first execution is untouched.
 * - `GET /v1/transfers/:key` → 200 `{ key, status, rail_reference, reason_code?, reason? }`, or 404
 *   problem JSON if the key was never executed.
 * - Outcome by the payee's `value`: ends with `0000` → failed `AC04` "closed account"; ends with
 *   `0001` → failed `AM04` "insufficient funds"; ends with `0002` → `pending`, becoming `completed`
 *   `settleDelayMs` later (visible via GET, a repeated POST, or a callback); anything else → `completed`.
 *   rail_reference is `SBX-<counter>`. A decline counts as an execution (the rail processed it).
 * - Balances: an account (party `type` and `value`; `institution` plays no part) has a balance in a
 *   currency only once one is set (`PUT /_sim/accounts/:type/:value` or `setBalance`); every other
 *   account, in every other currency, is unlimited and untracked. A transfer moves its amount from payer
 *   to payee whatever its kind: the payer's tracked balance is debited, the payee's credited, an
 *   untracked side is left alone. After the payee rules above, a transfer whose payer's tracked balance is
 *   below the amount fails `AM04` "insufficient funds". A pending transfer moves the money when it settles,
 *   and fails `AM04` then instead if the payer can no longer cover it. A tracked balance never goes below
 *   zero. `GET /v1/accounts/:type/:value/balance?currency=XXX` → `{ type, value, currency, balance_minor }`,
 *   or 404 problem JSON when no balance was set for the account in that currency.
 * - Callbacks: when a transfer carrying a `callback_url` reaches its final outcome asynchronously (a
 *   pending one settles), the rail POSTs `{ key, status, rail_reference, reason_code?, reason? }` to it,
 *   once. With the option `callbackAll`, transfers that are final at once are notified too (right after
 *   the answer). Every request carries `Sandbox-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of
 *   "<t>.<raw body>" under callbackSecret>` (see `signSandboxCallback`). A delivery that fails (no 2xx,
 *   network error, no answer within callbackTimeoutMs) is retried after each of callbackRetryDelaysMs,
 *   then dropped. Callback behaviour (`setCallbackBehaviour` or `PUT /_sim/callbacks` with `{ mode }`):
 *   `normal`; `duplicate` → every notification is delivered twice; `early` → a transfer that is final
 *   at once is notified before the POST that executed it is answered (the answer waits for the
 *   delivery, retries included), whatever callbackAll says; pending ones are notified when they settle;
 *   `never` → notifications are lost (none sent, not even later).
 * - Refunds: `POST /v1/transfers/:key/refunds` body `{ refund_key, amount_minor, currency? }` → 201
 *   `{ refund_key, key, status: 'completed', rail_reference, amount_minor, currency }` when executed, 200
 *   with the same body when refund_key was executed before with the same transfer and amount (executed
 *   once per refund_key, ever), 200 `{ refund_key, key, status: 'failed', reason_code, reason }` when
 *   declined: `DU05` refund_key already used for another refund; `AM03` currency differs from the
 *   transfer's; `NOT_COMPLETED` the transfer is not completed; `AM09` the amount exceeds what is left to
 *   refund; `AM04` the transfer's payee has a tracked balance below the amount. An executed refund moves
 *   its amount back from the transfer's payee to its payer (tracked balances only). 404 problem JSON when
 *   the transfer key was never executed; 400 when the body is malformed.
 * - Statement: `GET /v1/statement?from=YYYY-MM-DD&to=YYYY-MM-DD` (inclusive, UTC, at most 366 days) →
 *   `{ from, to, entries: [{ key, rail_reference, amount_minor, currency, direction, booking_date,
 *   value_date, reversal, counterparty, original_key? }] }`: every booking in range, in booking order.
 *   A transfer is booked when it completes (declines and pending transfers move no money): a benefit is a
 *   `debit` of the sandbox account, a fee a `credit`. A refund is booked with its refund_key as `key`, the
 *   refunded transfer's key as `original_key`, the opposite direction and `reversal: true`.
 * - Account names: `GET /v1/accounts/:type/:value/name` → `{ type, value, name }`, a deterministic fake
 *   name, or 404 problem JSON when the value ends with `9999` (no such account).
 * - Behaviour (`setBehaviour` or `PUT /_sim/behaviour` with `{ mode, delayMs? }`):
 *   `normal`; `down` → every `/v1` request gets 503 problem JSON and nothing is executed or
 *   counted; `timeout` → transfers and refunds are executed, but the POST answer is held `delayMs`
 *   (default 60000) so the client times out, while GETs answer normally; `slow` → every `/v1` request
 *   is executed and answered after `delayMs` (default 1000). Callbacks are not affected.
 * - Control (never affected by behaviour): `PUT /_sim/behaviour` → 204; `PUT /_sim/callbacks` → 204;
 *   `PUT /_sim/accounts/:type/:value` body `{ currency, balance_minor: "<non-negative integer string>" }`
 *   → 204, opens or overwrites the account's balance in that currency (400 problem JSON when malformed);
 *   `GET /_sim/executions/:key` → `{ key, executions, requests }`; `GET /_sim/callbacks/:key` →
 *   `{ key, sent }`; `POST /_sim/reset` → 204 (balances are forgotten too).
 */
import { createHash, createHmac } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import express, { type NextFunction, type Request, type Response } from 'express';
import { z } from 'zod';
import { SANDBOX_DEFAULT_CALLBACK_SECRET } from './defaults.ts';
import { startSimulatorServer } from '../simulator-server.ts';

export const SANDBOX_MAX_TRANSFERS_PER_REQUEST = 2000;
/** The header carrying a callback's signature (HTTP header names are case-insensitive). */
export const SANDBOX_SIGNATURE_HEADER = 'Sandbox-Signature';

export const SandboxBehaviourSchema = z.object({
  mode: z.enum(['normal', 'down', 'timeout', 'slow']),
  delayMs: z.number().int().min(0).max(600_000).optional(),
});
export type SandboxBehaviour = z.infer<typeof SandboxBehaviourSchema>;

export const SandboxCallbackBehaviourSchema = z.object({
  mode: z.enum(['normal', 'duplicate', 'early', 'never']),
});
export type SandboxCallbackBehaviour = z.infer<typeof SandboxCallbackBehaviourSchema>;

export interface SandboxSimulatorOptions {
  /** 0 (the default) picks a free port. */
  readonly port?: number;
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** How long a `…0002` payee stays pending before it completes; default 500 ms. */
  readonly settleDelayMs?: number;
  /** Default `{ mode: 'normal' }`. */
  readonly behaviour?: SandboxBehaviour;
  /** Signs callbacks; the adapter must be given the same. Default SANDBOX_DEFAULT_CALLBACK_SECRET (local use only). */
  readonly callbackSecret?: string;
  /** Also notify transfers whose outcome is final in the POST answer; default false. */
  readonly callbackAll?: boolean;
  /** Default `{ mode: 'normal' }`. */
  readonly callbackBehaviour?: SandboxCallbackBehaviour;
  /** Waits before each retry of a failed delivery; the delivery is dropped after the last. Default [100, 250, 500]. */
  readonly callbackRetryDelaysMs?: readonly number[];
  /** How long one delivery attempt may take; default 2000 ms. */
  readonly callbackTimeoutMs?: number;
}

export interface SandboxSimulator {
  /** Base URL, e.g. `http://127.0.0.1:40123`, without a trailing slash. */
  readonly url: string;
  /** The secret callbacks are signed with: give it to the adapter (`callbackSecret`). */
  readonly callbackSecret: string;
  setBehaviour(behaviour: SandboxBehaviour): void;
  setCallbackBehaviour(behaviour: SandboxCallbackBehaviour): void;
  /** How many times the rail executed the key (0 or 1: the simulator never executes a key twice). */
  executions(railKey: string): number;
  executionCounts(): ReadonlyMap<string, number>;
  /** How many transfer items named the key across all accepted POSTs, duplicates included. */
  requestCount(railKey: string): number;
  /** How many callbacks about the key were delivered (answered 2xx); retries of one delivery count once. */
  callbacksSent(railKey: string): number;
  /** Opens or overwrites the account's balance in the currency, as `PUT /_sim/accounts/:type/:value` does. */
  setBalance(account: SandboxAccount, currency: string, balanceMinor: bigint): void;
  /** The account's balance in the currency; undefined when none was set (the account is not tracked). */
  balance(account: SandboxAccount, currency: string): bigint | undefined;
  /** Forgets every transfer, refund, booking, balance and count, cancels pending settlements and deliveries,
   *  and returns both behaviours to `normal`; rail references keep increasing. */
  reset(): void;
  /** Closes promptly, dropping held requests, pending settlements, callback deliveries and open connections. */
  close(): Promise<void>;
}

/** An account on the rail, as a transfer's payer or payee names it. */
export interface SandboxAccount {
  readonly type: string;
  readonly value: string;
}

/** The simulator could not be reached at all (as opposed to answering with a refusal). */
export class SandboxUnreachable extends Error {
  override name = 'SandboxUnreachable';
}

/**
 * Sets an account's balance on a running simulator (`PUT /_sim/accounts/:type/:value`). Setting the same
 * figure again changes nothing, so a caller may repeat it freely. Throws SandboxUnreachable when nothing
 * answers at `baseUrl`, and a plain Error when something answers but does not accept the balance.
 */
export async function setSandboxBalance(baseUrl: string, account: SandboxAccount, currency: string, balanceMinor: bigint, timeoutMs = 5_000): Promise<void> {
  const url = `${baseUrl.replace(/\/+$/, '')}/_sim/accounts/${encodeURIComponent(account.type)}/${encodeURIComponent(account.value)}`;
  let response: globalThis.Response;
  try {
    response = await fetch(url, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ currency, balance_minor: balanceMinor.toString() }),
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    const why = (error as Error).name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : cause?.code ?? cause?.message ?? (error as Error).message;
    throw new SandboxUnreachable(`the sandbox rail simulator at ${baseUrl} cannot be reached (${why})`);
  }
  const body = await response.text().catch(() => '');
  if (response.status !== 204) {
    const detail = /^application\/(problem\+)?json/.test(response.headers.get('content-type') ?? '') ? ` ${body.slice(0, 300)}` : '';
    throw new Error(`${baseUrl} answered HTTP ${response.status} to setting a balance; is it a sandbox rail simulator?${detail}`);
  }
}

/** The `Sandbox-Signature` header value for a callback body: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`. */
export function signSandboxCallback(rawBody: string | Buffer, secret: string, timestampSeconds = Math.floor(Date.now() / 1000)): string {
  const mac = createHmac('sha256', secret).update(`${timestampSeconds}.`).update(rawBody).digest('hex');
  return `t=${timestampSeconds},v1=${mac}`;
}

const DEFAULT_TIMEOUT_DELAY_MS = 60_000;
const DEFAULT_SLOW_DELAY_MS = 1_000;
const DEFAULT_CALLBACK_RETRY_DELAYS_MS = [100, 250, 500] as const;
const DEFAULT_CALLBACK_TIMEOUT_MS = 2_000;
const MAX_STATEMENT_DAYS = 366;
const DAY_MS = 86_400_000;
/** Captured at load so that a test replacing globalThis.fetch for the adapter does not see the rail's own calls. */
const railFetch = globalThis.fetch;

const PartySchema = z.object({
  type: z.string().min(1).max(32),
  value: z.string().min(1).max(256),
  institution: z.string().min(1).max(64).optional(),
});

const AmountMinorSchema = z.string().regex(/^[1-9]\d{0,18}$/, 'must be a positive integer string of minor units');
const CurrencySchema = z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code');

const TransferSchema = z.object({
  key: z.string().min(1).max(200),
  kind: z.enum(['fee', 'benefit']),
  amount_minor: AmountMinorSchema,
  currency: CurrencySchema,
  payer: PartySchema,
  payee: PartySchema,
  reference: z.string().max(500),
  callback_url: z.url({ protocol: /^https?$/ }).max(2000).optional(),
});
type Transfer = z.infer<typeof TransferSchema>;

const TransfersRequestSchema = z.object({
  transfers: z.array(TransferSchema).min(1).max(SANDBOX_MAX_TRANSFERS_PER_REQUEST),
});

const RefundRequestSchema = z.object({
  refund_key: z.string().min(1).max(200),
  amount_minor: AmountMinorSchema,
  currency: CurrencySchema.optional(),
});

const IsoDateSchema = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date YYYY-MM-DD')
  .refine((d) => !Number.isNaN(Date.parse(`${d}T00:00:00Z`)) && new Date(`${d}T00:00:00Z`).toISOString().startsWith(d), 'is not a calendar date');

const StatementQuerySchema = z
  .object({ from: IsoDateSchema, to: IsoDateSchema })
  .refine((q) => q.from <= q.to, { path: ['to'], message: 'must not be before from' })
  .refine((q) => (Date.parse(q.to) - Date.parse(q.from)) / DAY_MS < MAX_STATEMENT_DAYS, {
    path: ['to'],
    message: `the range may cover at most ${MAX_STATEMENT_DAYS} days`,
  });

const AccountParamsSchema = z.object({ type: z.string().min(1).max(32), value: z.string().min(1).max(256) });

const BalanceRequestSchema = z.object({
  currency: CurrencySchema,
  balance_minor: z.string().regex(/^(0|[1-9]\d{0,18})$/, 'must be a non-negative integer string of minor units'),
});

const BalanceQuerySchema = z.object({ currency: CurrencySchema });

/** One balance per account and currency; the type's length marks where the value starts, whatever either holds. */
const balanceKeyOf = (account: SandboxAccount, currency: string): string => `${currency}${account.type.length}:${account.type}:${account.value}`;

type TransferStatus = 'completed' | 'pending' | 'failed';

interface StoredTransfer {
  readonly fingerprint: string;
  readonly railReference: string;
  readonly kind: Transfer['kind'];
  readonly amountMinor: bigint;
  readonly currency: string;
  /** The account on the other side of the sandbox account: the payee of a benefit, the payer of a fee. */
  readonly counterparty: string;
  /** Balance keys (balanceKeyOf) of the payer and the payee in the transfer's currency. */
  readonly payerBalance: string;
  readonly payeeBalance: string;
  readonly callbackUrl?: string;
  status: TransferStatus;
  /** Set at execution, or when a pending transfer can no longer be covered as it settles. */
  reasonCode?: string;
  reason?: string;
  /** Epoch ms at which a pending transfer completes. */
  readonly settleAt?: number;
  refundedMinor: bigint;
  /** Whether the final outcome was handed to the callback machinery (at most once). */
  notified: boolean;
}

interface StoredRefund {
  readonly key: string;
  readonly amountMinor: bigint;
  readonly currency: string;
  readonly railReference: string;
}

interface Booking {
  readonly key: string;
  readonly railReference: string;
  readonly amountMinor: bigint;
  readonly currency: string;
  readonly direction: 'debit' | 'credit';
  readonly bookedAt: number;
  readonly reversal: boolean;
  readonly counterparty: string;
  readonly originalKey?: string;
}

interface WireResult {
  key: string;
  status: TransferStatus;
  rail_reference?: string;
  reason_code?: string;
  reason?: string;
}

type WireRefund =
  | { refund_key: string; key: string; status: 'completed'; rail_reference: string; amount_minor: string; currency: string }
  | { refund_key: string; key: string; status: 'failed'; reason_code: string; reason: string };

function fingerprintOf(t: Transfer): string {
  const party = (p: Transfer['payer']) => `${p.type}:${p.value}:${p.institution ?? ''}`;
  return `${t.kind}|${t.amount_minor}|${t.currency}|${party(t.payer)}|${party(t.payee)}`;
}

function sendProblem(res: Response, status: number, code: string, title: string, detail?: string, extra: Record<string, unknown> = {}): void {
  res
    .status(status)
    .type('application/problem+json')
    .send(JSON.stringify({ type: 'about:blank', title, status, code, ...(detail ? { detail } : {}), ...extra }));
}

/** The account a path names and the body or query that comes with it; undefined once a 400 names every bad field. */
function accountRequestOf<T>(res: Response, params: unknown, schema: z.ZodType<T>, input: unknown, title: string): { account: z.infer<typeof AccountParamsSchema>; data: T } | undefined {
  const account = AccountParamsSchema.safeParse(params);
  const data = schema.safeParse(input);
  if (account.success && data.success) return { account: account.data, data: data.data };
  const errors = [...(account.success ? [] : fieldErrors(account.error)), ...(data.success ? [] : fieldErrors(data.error))];
  sendProblem(res, 400, 'validation_failed', title, undefined, { errors });
  return undefined;
}

function fieldErrors(error: z.ZodError): { field: string; reason: string }[] {
  return error.issues.map((issue) => ({ field: issue.path.join('.') || '(body)', reason: issue.message }));
}

const isoDateOf = (epochMs: number): string => new Date(epochMs).toISOString().slice(0, 10);

const FIRST_NAMES = ['Amina', 'Baraka', 'Chiara', 'Dawit', 'Elif', 'Farid', 'Grace', 'Hamza', 'Ines', 'Jomo', 'Kalani', 'Leila', 'Mateo', 'Nia', 'Olek', 'Priya'];
const LAST_NAMES = ['Achieng', 'Bianchi', 'Chen', 'Diallo', 'Eriksen', 'Fernandes', 'Gashi', 'Haddad', 'Ivanova', 'Kamau', 'Lindqvist', 'Mensah', 'Novak', 'Okafor', 'Petrov', 'Quispe'];

/** A fake but stable account holder name for an account. */
function fakeNameOf(type: string, value: string): string {
  const digest = createHash('sha256').update(`${type}:${value}`).digest();
  return `${FIRST_NAMES[digest[0]! % FIRST_NAMES.length]} ${LAST_NAMES[digest[1]! % LAST_NAMES.length]}`;
}

export async function startSandboxSimulator(options: SandboxSimulatorOptions = {}): Promise<SandboxSimulator> {
  const host = options.host ?? '127.0.0.1';
  const settleDelayMs = options.settleDelayMs ?? 500;
  const callbackSecret = options.callbackSecret ?? SANDBOX_DEFAULT_CALLBACK_SECRET;
  if (callbackSecret.length === 0) throw new Error('startSandboxSimulator: callbackSecret must not be empty');
  const callbackAll = options.callbackAll ?? false;
  const retryDelaysMs = [...(options.callbackRetryDelaysMs ?? DEFAULT_CALLBACK_RETRY_DELAYS_MS)];
  const callbackTimeoutMs = options.callbackTimeoutMs ?? DEFAULT_CALLBACK_TIMEOUT_MS;
  let behaviour: SandboxBehaviour = SandboxBehaviourSchema.parse(options.behaviour ?? { mode: 'normal' });
  let callbackBehaviour: SandboxCallbackBehaviour = SandboxCallbackBehaviourSchema.parse(options.callbackBehaviour ?? { mode: 'normal' });

  const transfers = new Map<string, StoredTransfer>();
  const refunds = new Map<string, StoredRefund>();
  const bookings: Booking[] = [];
  const executionCount = new Map<string, number>();
  const requestCounts = new Map<string, number>();
  const callbackCounts = new Map<string, number>();
  /** Tracked balances only, by balanceKeyOf; an account absent here is unlimited. */
  const balances = new Map<string, bigint>();
  /** Keys of pending transfers, so that a balance read applies due settlements without walking every transfer. */
  const pendingKeys = new Set<string>();
  let referenceCounter = 0;

  const heldTimers = new Set<NodeJS.Timeout>();
  const settleTimers = new Set<NodeJS.Timeout>();
  /** Aborted by reset() and close(): stops callback deliveries and their retries. */
  let deliveries = new AbortController();

  /** Answers later unless the client went away or the simulator closed meanwhile. */
  function answerLater(res: Response, delayMs: number, answer: () => void): void {
    const timer = setTimeout(() => {
      heldTimers.delete(timer);
      if (!res.writableEnded && !res.destroyed) answer();
    }, delayMs);
    heldTimers.add(timer);
    res.once('close', () => {
      clearTimeout(timer);
      heldTimers.delete(timer);
    });
  }

  function delayFor(b: SandboxBehaviour): number {
    return b.delayMs ?? (b.mode === 'timeout' ? DEFAULT_TIMEOUT_DELAY_MS : DEFAULT_SLOW_DELAY_MS);
  }

  /** Answers now or as the behaviour says; `execute` requests (POSTs) are held in `timeout`, every request in `slow`. */
  function reply(res: Response, kind: 'execute' | 'read', answer: () => void): void {
    const b = behaviour;
    if (b.mode === 'slow' || (b.mode === 'timeout' && kind === 'execute')) answerLater(res, delayFor(b), answer);
    else if (!res.writableEnded && !res.destroyed) answer();
  }

  function book(key: string, stored: StoredTransfer): void {
    bookings.push({
      key,
      railReference: stored.railReference,
      amountMinor: stored.amountMinor,
      currency: stored.currency,
      direction: stored.kind === 'benefit' ? 'debit' : 'credit',
      bookedAt: Date.now(),
      reversal: false,
      counterparty: stored.counterparty,
    });
  }

  function covers(balanceKey: string, amountMinor: bigint): boolean {
    const balance = balances.get(balanceKey);
    return balance === undefined || balance >= amountMinor;
  }

  function move(fromKey: string, toKey: string, amountMinor: bigint): void {
    const from = balances.get(fromKey);
    if (from !== undefined) balances.set(fromKey, from - amountMinor);
    const to = balances.get(toKey);
    if (to !== undefined) balances.set(toKey, to + amountMinor);
  }

  function settle(key: string, stored: StoredTransfer): void {
    if (stored.status !== 'pending') return;
    pendingKeys.delete(key);
    // The payer may have spent the money elsewhere while this transfer was pending.
    if (!covers(stored.payerBalance, stored.amountMinor)) {
      stored.status = 'failed';
      stored.reasonCode = 'AM04';
      stored.reason = 'insufficient funds';
      return;
    }
    stored.status = 'completed';
    move(stored.payerBalance, stored.payeeBalance, stored.amountMinor);
    book(key, stored);
  }

  /** Returns the stored transfer with a due pending settlement applied. */
  function current(key: string): StoredTransfer | undefined {
    const stored = transfers.get(key);
    if (stored && stored.status === 'pending' && stored.settleAt !== undefined && stored.settleAt <= Date.now()) settle(key, stored);
    return stored;
  }

  function toWire(key: string, stored: StoredTransfer): WireResult {
    const result: WireResult = { key, status: stored.status, rail_reference: stored.railReference };
    if (stored.reasonCode !== undefined) result.reason_code = stored.reasonCode;
    if (stored.reason !== undefined) result.reason = stored.reason;
    return result;
  }

  /** One delivery attempt; true when the receiver answered 2xx. */
  async function attemptDelivery(url: string, body: string, signal: AbortSignal): Promise<boolean> {
    try {
      const response = await railFetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', [SANDBOX_SIGNATURE_HEADER]: signSandboxCallback(body, callbackSecret) },
        body,
        redirect: 'manual',
        signal: AbortSignal.any([signal, AbortSignal.timeout(callbackTimeoutMs)]),
      });
      await response.arrayBuffer().catch(() => undefined);
      return response.status >= 200 && response.status < 300;
    } catch {
      return false;
    }
  }

  /** Delivers one notification, retrying with backoff, then gives up silently (as a rail does). */
  async function deliver(key: string, url: string, body: string, signal: AbortSignal): Promise<void> {
    for (let attempt = 0; !signal.aborted; attempt++) {
      if (await attemptDelivery(url, body, signal)) {
        if (!signal.aborted) callbackCounts.set(key, (callbackCounts.get(key) ?? 0) + 1);
        return;
      }
      const delay = retryDelaysMs[attempt];
      if (delay === undefined) return;
      try {
        await sleep(delay, undefined, { signal });
      } catch {
        return; // reset or closed
      }
    }
  }

  /** Notifies the final outcome of a transfer to its callback_url, once (twice in `duplicate`, never in `never`). */
  async function notify(key: string, stored: StoredTransfer): Promise<void> {
    const url = stored.callbackUrl;
    if (stored.notified || stored.status === 'pending' || url === undefined) return;
    stored.notified = true;
    const mode = callbackBehaviour.mode;
    if (mode === 'never') return;
    const body = JSON.stringify(toWire(key, stored));
    const signal = deliveries.signal;
    for (let copy = mode === 'duplicate' ? 2 : 1; copy > 0; copy--) await deliver(key, url, body, signal);
  }

  /** Applies every pending settlement that is due, so that balances read now include it. */
  function settleDue(): void {
    for (const key of [...pendingKeys]) current(key);
  }

  function scheduleSettlement(key: string, stored: StoredTransfer): void {
    const timer = setTimeout(() => {
      settleTimers.delete(timer);
      if (transfers.get(key) !== stored) return; // forgotten by reset()
      settle(key, stored);
      void notify(key, stored);
    }, settleDelayMs);
    settleTimers.add(timer);
  }

  function execute(t: Transfer): StoredTransfer {
    const base = {
      fingerprint: fingerprintOf(t),
      railReference: `SBX-${++referenceCounter}`,
      kind: t.kind,
      amountMinor: BigInt(t.amount_minor),
      currency: t.currency,
      counterparty: t.kind === 'benefit' ? t.payee.value : t.payer.value,
      payerBalance: balanceKeyOf(t.payer, t.currency),
      payeeBalance: balanceKeyOf(t.payee, t.currency),
      ...(t.callback_url !== undefined ? { callbackUrl: t.callback_url } : {}),
      refundedMinor: 0n,
      notified: false,
    };
    const payee = t.payee.value;
    let stored: StoredTransfer;
    if (payee.endsWith('0000')) {
      stored = { ...base, status: 'failed', reasonCode: 'AC04', reason: 'closed account' };
    } else if (payee.endsWith('0001') || !covers(base.payerBalance, base.amountMinor)) {
      stored = { ...base, status: 'failed', reasonCode: 'AM04', reason: 'insufficient funds' };
    } else if (payee.endsWith('0002')) {
      stored = { ...base, status: 'pending', settleAt: Date.now() + settleDelayMs };
    } else {
      stored = { ...base, status: 'completed' };
    }
    transfers.set(t.key, stored);
    executionCount.set(t.key, (executionCount.get(t.key) ?? 0) + 1);
    if (stored.status === 'completed') {
      move(stored.payerBalance, stored.payeeBalance, stored.amountMinor);
      book(t.key, stored);
    }
    if (stored.status === 'pending') {
      pendingKeys.add(t.key);
      scheduleSettlement(t.key, stored);
    }
    return stored;
  }

  function handle(t: Transfer): { result: WireResult; executed?: StoredTransfer } {
    requestCounts.set(t.key, (requestCounts.get(t.key) ?? 0) + 1);
    const existing = current(t.key);
    if (!existing) {
      const executed = execute(t);
      return { result: toWire(t.key, executed), executed };
    }
    if (existing.fingerprint !== fingerprintOf(t)) {
      return {
        result: { key: t.key, status: 'failed', reason_code: 'DU05', reason: 'duplicate key: this key was already used for a different payment' },
      };
    }
    return { result: toWire(t.key, existing) };
  }

  function refund(key: string, original: StoredTransfer, request: z.infer<typeof RefundRequestSchema>): { status: 200 | 201; body: WireRefund } {
    const refundKey = request.refund_key;
    const amountMinor = BigInt(request.amount_minor);
    const declined = (reasonCode: string, reason: string) =>
      ({ status: 200, body: { refund_key: refundKey, key, status: 'failed', reason_code: reasonCode, reason } }) as const;
    const existing = refunds.get(refundKey);
    if (existing) {
      if (existing.key !== key || existing.amountMinor !== amountMinor || (request.currency !== undefined && request.currency !== existing.currency)) {
        return declined('DU05', 'duplicate refund key: this refund_key was already used for a different refund');
      }
      return { status: 200, body: completedRefund(refundKey, existing) };
    }
    if (request.currency !== undefined && request.currency !== original.currency) {
      return declined('AM03', `the transfer is in ${original.currency}, not ${request.currency}`);
    }
    if (original.status !== 'completed') return declined('NOT_COMPLETED', `the transfer is ${original.status}; only a completed transfer can be refunded`);
    const left = original.amountMinor - original.refundedMinor;
    if (amountMinor > left) return declined('AM09', `the refund exceeds the amount left to refund (${left} minor units)`);
    if (!covers(original.payeeBalance, amountMinor)) return declined('AM04', 'insufficient funds: the payee\'s balance is below the refund');

    const stored: StoredRefund = { key, amountMinor, currency: original.currency, railReference: `SBX-${++referenceCounter}` };
    refunds.set(refundKey, stored);
    original.refundedMinor += amountMinor;
    move(original.payeeBalance, original.payerBalance, amountMinor);
    bookings.push({
      key: refundKey,
      railReference: stored.railReference,
      amountMinor,
      currency: stored.currency,
      direction: original.kind === 'benefit' ? 'credit' : 'debit',
      bookedAt: Date.now(),
      reversal: true,
      counterparty: original.counterparty,
      originalKey: key,
    });
    return { status: 201, body: completedRefund(refundKey, stored) };
  }

  function completedRefund(refundKey: string, stored: StoredRefund): WireRefund {
    return {
      refund_key: refundKey,
      key: stored.key,
      status: 'completed',
      rail_reference: stored.railReference,
      amount_minor: stored.amountMinor.toString(),
      currency: stored.currency,
    };
  }

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(express.json({ limit: '8mb' }));

  app.put('/_sim/behaviour', (req, res) => {
    const parsed = SandboxBehaviourSchema.safeParse(req.body);
    if (!parsed.success) {
      sendProblem(res, 400, 'validation_failed', 'Invalid behaviour', undefined, { errors: fieldErrors(parsed.error) });
      return;
    }
    behaviour = parsed.data;
    res.status(204).end();
  });

  app.put('/_sim/callbacks', (req, res) => {
    const parsed = SandboxCallbackBehaviourSchema.safeParse(req.body);
    if (!parsed.success) {
      sendProblem(res, 400, 'validation_failed', 'Invalid callback behaviour', undefined, { errors: fieldErrors(parsed.error) });
      return;
    }
    callbackBehaviour = parsed.data;
    res.status(204).end();
  });

  app.put('/_sim/accounts/:type/:value', (req, res) => {
    const parsed = accountRequestOf(res, req.params, BalanceRequestSchema, req.body, 'Invalid balance');
    if (!parsed) return;
    balances.set(balanceKeyOf(parsed.account, parsed.data.currency), BigInt(parsed.data.balance_minor));
    res.status(204).end();
  });

  app.get('/_sim/executions/:key', (req, res) => {
    const key = req.params.key;
    res.json({ key, executions: executionCount.get(key) ?? 0, requests: requestCounts.get(key) ?? 0 });
  });

  app.get('/_sim/callbacks/:key', (req, res) => {
    const key = req.params.key;
    res.json({ key, sent: callbackCounts.get(key) ?? 0 });
  });

  app.post('/_sim/reset', (_req, res) => {
    reset();
    res.status(204).end();
  });

  app.use('/v1', (_req, res, next) => {
    if (behaviour.mode === 'down') {
      sendProblem(res, 503, 'rail_unavailable', 'Service unavailable', 'The sandbox rail is down');
      return;
    }
    next();
  });

  app.post('/v1/transfers', async (req, res) => {
    const parsed = TransfersRequestSchema.safeParse(req.body);
    if (!parsed.success) {
      sendProblem(res, 400, 'validation_failed', 'The request is not valid', undefined, { errors: fieldErrors(parsed.error) });
      return;
    }
    const items = parsed.data.transfers;
    const results = new Array<WireResult>(items.length);
    const finalNow: [string, StoredTransfer][] = [];
    for (let i = 0; i < items.length; i++) {
      const { result, executed } = handle(items[i]!);
      results[i] = result;
      if (executed && executed.status !== 'pending') finalNow.push([result.key, executed]);
    }
    if (callbackBehaviour.mode === 'early') {
      await Promise.all(finalNow.map(([key, stored]) => notify(key, stored)));
    }
    reply(res, 'execute', () => res.json({ results }));
    if (callbackAll) for (const [key, stored] of finalNow) void notify(key, stored);
  });

  app.get('/v1/transfers/:key', (req, res) => {
    reply(res, 'read', () => {
      const key = req.params.key;
      const stored = current(key);
      if (!stored) sendProblem(res, 404, 'not_found', 'Not found', 'No transfer was executed under this key');
      else res.json(toWire(key, stored));
    });
  });

  app.post('/v1/transfers/:key/refunds', (req, res) => {
    const parsed = RefundRequestSchema.safeParse(req.body);
    if (!parsed.success) {
      sendProblem(res, 400, 'validation_failed', 'The request is not valid', undefined, { errors: fieldErrors(parsed.error) });
      return;
    }
    const key = req.params.key;
    const original = current(key);
    if (!original) {
      reply(res, 'execute', () => sendProblem(res, 404, 'not_found', 'Not found', 'No transfer was executed under this key'));
      return;
    }
    const { status, body } = refund(key, original, parsed.data);
    reply(res, 'execute', () => res.status(status).json(body));
  });

  app.get('/v1/statement', (req, res) => {
    const parsed = StatementQuerySchema.safeParse(req.query);
    if (!parsed.success) {
      sendProblem(res, 400, 'validation_failed', 'The request is not valid', undefined, { errors: fieldErrors(parsed.error) });
      return;
    }
    const { from, to } = parsed.data;
    for (const key of transfers.keys()) current(key); // books settlements that are due
    reply(res, 'read', () => {
      const entries = bookings
        .filter((b) => {
          const date = isoDateOf(b.bookedAt);
          return date >= from && date <= to;
        })
        .map((b) => ({
          key: b.key,
          rail_reference: b.railReference,
          amount_minor: b.amountMinor.toString(),
          currency: b.currency,
          direction: b.direction,
          booking_date: isoDateOf(b.bookedAt),
          value_date: isoDateOf(b.bookedAt),
          reversal: b.reversal,
          counterparty: b.counterparty,
          ...(b.originalKey !== undefined ? { original_key: b.originalKey } : {}),
        }));
      res.json({ from, to, entries });
    });
  });

  app.get('/v1/accounts/:type/:value/name', (req, res) => {
    const parsed = AccountParamsSchema.safeParse(req.params);
    if (!parsed.success) {
      sendProblem(res, 400, 'validation_failed', 'The request is not valid', undefined, { errors: fieldErrors(parsed.error) });
      return;
    }
    const { type, value } = parsed.data;
    reply(res, 'read', () => {
      if (value.endsWith('9999')) sendProblem(res, 404, 'not_found', 'Not found', 'No account is known under this identifier');
      else res.json({ type, value, name: fakeNameOf(type, value) });
    });
  });

  app.get('/v1/accounts/:type/:value/balance', (req, res) => {
    const parsed = accountRequestOf(res, req.params, BalanceQuerySchema, req.query, 'The request is not valid');
    if (!parsed) return;
    const { type, value } = parsed.account;
    const { currency } = parsed.data;
    settleDue();
    reply(res, 'read', () => {
      const balance = balances.get(balanceKeyOf({ type, value }, currency));
      if (balance === undefined) sendProblem(res, 404, 'not_found', 'Not found', `No balance in ${currency} was set for this account`);
      else res.json({ type, value, currency, balance_minor: balance.toString() });
    });
  });

  app.use((_req: Request, res: Response) => {
    sendProblem(res, 404, 'not_found', 'Not found', 'No such endpoint');
  });

  app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const e = error as { status?: unknown; type?: unknown; message?: unknown };
    const status = typeof e.status === 'number' && e.status >= 400 && e.status < 600 ? e.status : 500;
    if (status === 400) sendProblem(res, 400, 'malformed_body', 'The body is not valid JSON');
    else if (status === 413) sendProblem(res, 413, 'body_too_large', 'The body is too large');
    else sendProblem(res, status, 'internal_error', 'Internal error');
  });

  function stopBackgroundWork(): void {
    for (const timer of settleTimers) clearTimeout(timer);
    settleTimers.clear();
    deliveries.abort();
  }

  function reset(): void {
    stopBackgroundWork();
    deliveries = new AbortController();
    transfers.clear();
    refunds.clear();
    bookings.length = 0;
    executionCount.clear();
    requestCounts.clear();
    callbackCounts.clear();
    balances.clear();
    pendingKeys.clear();
    behaviour = { mode: 'normal' };
    callbackBehaviour = { mode: 'normal' };
  }

  const listening = await startSimulatorServer(app, { port: options.port, host });

  let closing: Promise<void> | undefined;

  return {
    url: listening.url,
    callbackSecret,
    setBehaviour(next) {
      behaviour = SandboxBehaviourSchema.parse(next);
    },
    setCallbackBehaviour(next) {
      callbackBehaviour = SandboxCallbackBehaviourSchema.parse(next);
    },
    executions: (key) => executionCount.get(key) ?? 0,
    executionCounts: () => new Map(executionCount),
    requestCount: (key) => requestCounts.get(key) ?? 0,
    callbacksSent: (key) => callbackCounts.get(key) ?? 0,
    setBalance(account, currency, balanceMinor) {
      const parsed = AccountParamsSchema.safeParse(account);
      if (!parsed.success || !/^[A-Z]{3}$/.test(currency) || balanceMinor < 0n) throw new Error('setBalance: needs an account type and value, an ISO 4217 currency and a balance of at least 0');
      balances.set(balanceKeyOf(parsed.data, currency), balanceMinor);
    },
    balance(account, currency) {
      settleDue();
      return balances.get(balanceKeyOf(account, currency));
    },
    reset,
    close() {
      closing ??= new Promise<void>((resolve) => {
        stopBackgroundWork();
        for (const timer of heldTimers) clearTimeout(timer);
        heldTimers.clear();
        void listening.stop().then(resolve);
      });
      return closing;
    },
  };
}
