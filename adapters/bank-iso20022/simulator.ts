/**
 * A local bank for the ISO 20022 rail, speaking the host-to-host protocol BankIso20022Adapter
 * uses, over HTTP on loopback. Used by the conformance tests, `kassa start` and the benchmarks. All
 * state is in memory; nothing is logged per request.
 *
 * Protocol
 * - `POST /pain001` (Content-Type application/xml or text/xml): a pain.001.001.09. Header
 *   `X-Callback-URL` (optional, http/https): where to push later news of its payments. The message is
 *   checked like a bank would (structure, GrpHdr and PmtInf NbOfTxs / CtrlSum, amounts, accounts,
 *   unique EndToEndIds, at most 10,000 transactions): a bad one is answered 400 with a pain.002
 *   GrpSts RJCT (FF01, AM18 count, AM10 control sum, DU04 duplicate EndToEndId…) and nothing runs.
 *   Otherwise 200 with a pain.002.001.11: group status (the common status, or PART), counts per
 *   status, and one TxInfAndSts per transaction with AcctSvcrRef = the bank's payment reference.
 * - Execution: each EndToEndId is executed at most once, ever. A resend with the same payment
 *   (amount, currency, creditor account, debtor account) is answered with its current status; a
 *   resend with a different payment is answered RJCT DU04 and the first execution is untouched.
 * - Account rules, by the creditor account (IBAN or Othr/Id) ending in:
 *   `0000` → RJCT AC04 closed account; `0001` → RJCT AM04 insufficient funds;
 *   `0002` → PDNG, settled ACSC `settleDelayMs` later; `0003` → PDNG, then RJCT AC06 blocked account
 *   `settleDelayMs` later; anything else → ACSC at once. A rejection counts as an execution.
 *   When a pending payment settles, the bank pushes its final status to the chunk's callback URL,
 *   signed `X-Bank-Signature: t=<unix s>,v1=<hex HMAC-SHA256("<t>.<body>", callbackSecret)>`:
 *   a pain.002 (default) or, with `notifyWith: 'camt.054'`, a camt.054 of the booking (rejections
 *   always as pain.002). Failed deliveries are retried twice.
 * - Bookings on the debtor account: the payments of a PmtInf that settle at once are booked as one
 *   batch debit per currency (Btch with MsgId, PmtInfId, NbOfTxs, and one TxDtls per payment with its
 *   EndToEndId); payments settling later are booked when they settle. Returns are booked as a credit
 *   with RvslInd true and RtrInf (MT940 mark RD). Balances start at `openingBalanceMinor`.
 * - `GET /payments/:endToEndId/status` → 200 pain.002 for that transaction, or 404 when never executed.
 * - `GET /statements/camt053?from=YYYY-MM-DD&to=YYYY-MM-DD[&format=mt940]` → a camt.053.001.08 with
 *   one Stmt per account, currency and booking day (balances OPBD/CLBD, TxsSummry), or the same as
 *   MT940 (text/plain). With nothing booked in the range, one empty Stmt for `to`.
 * - Behaviour (`setBehaviour` or `PUT /_sim/behaviour` with `{ mode, delayMs?, callbacks? }`):
 *   `normal`; `down` → the bank's endpoints answer 503 and nothing runs; `timeout` → a pain.001 is
 *   executed but its answer is held `delayMs` (default 60000) so the client times out, while other
 *   requests answer normally; `slow` → every bank request is answered after `delayMs` (default 1000).
 *   `callbacks`: `deliver` (default), `duplicate` (every push sent twice) or `drop` (none sent).
 * - Control (never affected by behaviour): `PUT /_sim/behaviour` → 204; `GET /_sim/executions/:key`
 *   → `{ key, executions, requests }`; `POST /_sim/returns/:key` with optional JSON `{ reasonCode,
 *   reason }` → 201 `{ key, reference, reasonCode }` (the creditor's bank returned the money: a
 *   reversal is booked and pushed as camt.054), 404 unknown key, 409 not completed or already
 *   returned; `POST /_sim/reset` → 204.
 */
import { setMaxListeners } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import express, { type NextFunction, type Request, type Response } from 'express';
import { z } from 'zod';
import type { Money } from '../../src/domain/money.ts';
import { parsePain001, type Pain001Account, type Pain001Message } from './pain001.ts';
import { describeReason } from './reason-codes.ts';
import { BANK_SIGNATURE_HEADER, DEFAULT_BANK_CALLBACK_SECRET, signBankPush } from './signature.ts';
import {
  buildCamt053,
  buildCamt054,
  buildMt940,
  buildPain002,
  type AccountReport,
  type BookedEntry,
  type BookedTransaction,
  type StatusLine,
} from './simulator-messages.ts';
import { isoDate, isValidIsoDate, Iso20022FormatError } from './xml.ts';
import { startSimulatorServer } from '../simulator-server.ts';
import { whenDue } from '../simulator-clock.ts';

export const BANK_SIMULATOR_BIC = 'SIMBDEFFXXX';

/** An account at the simulated bank that local runs can use as Kassa's debtor account. */
export const BANK_SIMULATOR_TREASURY = Object.freeze({ name: 'Ministry of Finance - Treasury', iban: 'DE89370400440532013000', bic: BANK_SIMULATOR_BIC });

export const BankBehaviourSchema = z.object({
  mode: z.enum(['normal', 'down', 'timeout', 'slow']),
  delayMs: z.number().int().min(0).max(600_000).optional(),
  callbacks: z.enum(['deliver', 'duplicate', 'drop']).optional(),
});
export type BankBehaviour = z.infer<typeof BankBehaviourSchema>;

export interface BankSimulatorOptions {
  /** 0 (the default) picks a free port. */
  readonly port?: number;
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** Secret of the signed pushes; default DEFAULT_BANK_CALLBACK_SECRET (the adapter's default). */
  readonly callbackSecret?: string;
  /** How long a `…0002` / `…0003` payment stays pending; default 500 ms. */
  readonly settleDelayMs?: number;
  /** Default `{ mode: 'normal' }`. */
  readonly behaviour?: BankBehaviour;
  /** How settled pending payments are pushed; default 'pain.002'. */
  readonly notifyWith?: 'pain.002' | 'camt.054';
  /** The bank's BIC; default SIMBDEFFXXX. */
  readonly bankBic?: string;
  /** Every account's balance before its first booking, per currency; default 0. */
  readonly openingBalanceMinor?: bigint;
  /** Most transactions accepted in one pain.001; default 10,000. */
  readonly maxTransactionsPerMessage?: number;
}

export interface BankSimulator {
  /** Base URL, e.g. `http://127.0.0.1:40123`, without a trailing slash. */
  readonly url: string;
  /** The secret the pushes are signed with (configure the adapter's callbackSecret with it). */
  readonly callbackSecret: string;
  setBehaviour(behaviour: BankBehaviour): void;
  /** How many times the bank executed the EndToEndId (0 or 1: it never executes one twice). */
  executions(endToEndId: string): number;
  executionCounts(): ReadonlyMap<string, number>;
  /** How many transactions named the EndToEndId across all accepted pain.001s, resends included. */
  requestCount(endToEndId: string): number;
  /** The creditor's bank sends a completed payment back: books the reversal and pushes a camt.054. */
  returnPayment(endToEndId: string, reasonCode?: string, reason?: string): { readonly reference: string; readonly reasonCode: string };
  /** Every booking on every account so far, oldest first. */
  bookings(): readonly (BookedEntry & { readonly iban: string })[];
  /** Pushes the callback URLs accepted (2xx), duplicates included. */
  pushesDelivered(): number;
  /** Forgets every payment, booking and count and returns to `normal`; references keep increasing. */
  reset(): void;
  /** Closes promptly, dropping held requests, pending pushes and open connections. */
  close(): Promise<void>;
}

const DEFAULT_TIMEOUT_DELAY_MS = 60_000;
const DEFAULT_SLOW_DELAY_MS = 1_000;
const PUSH_ATTEMPTS = 3;

type TxStatus = 'ACSC' | 'PDNG' | 'RJCT';

interface Execution {
  readonly key: string;
  readonly fingerprint: string;
  status: TxStatus;
  readonly finalStatus: 'ACSC' | 'RJCT';
  readonly reasonCode?: string;
  readonly reference: string;
  readonly amount: Money;
  readonly debtorName?: string;
  readonly debtorIban: string;
  readonly creditorName?: string;
  readonly creditorAccount: Pain001Account;
  readonly creditorAgentBic?: string;
  readonly remittance?: string;
  readonly messageId: string;
  readonly paymentInformationId: string;
  readonly acceptedAt: Date;
  readonly settleAt?: number;
  readonly callbackUrl?: string;
  /** Whether the final status of a pending payment was pushed. */
  notified: boolean;
  returned: boolean;
  entry?: Booking;
}

type Booking = BookedEntry & { readonly iban: string; readonly currency: string };

const RULES: readonly { readonly suffix: string; readonly status: TxStatus; readonly finalStatus: 'ACSC' | 'RJCT'; readonly reasonCode?: string }[] = [
  { suffix: '0000', status: 'RJCT', finalStatus: 'RJCT', reasonCode: 'AC04' },
  { suffix: '0001', status: 'RJCT', finalStatus: 'RJCT', reasonCode: 'AM04' },
  { suffix: '0002', status: 'PDNG', finalStatus: 'ACSC' },
  { suffix: '0003', status: 'PDNG', finalStatus: 'RJCT', reasonCode: 'AC06' },
];

export async function startBankSimulator(options: BankSimulatorOptions = {}): Promise<BankSimulator> {
  const host = options.host ?? '127.0.0.1';
  const settleDelayMs = options.settleDelayMs ?? 500;
  const secret = options.callbackSecret ?? DEFAULT_BANK_CALLBACK_SECRET;
  const bankBic = options.bankBic ?? BANK_SIMULATOR_BIC;
  const notifyWith = options.notifyWith ?? 'pain.002';
  const openingBalance = options.openingBalanceMinor ?? 0n;
  const maxTransactions = options.maxTransactionsPerMessage ?? 10_000;
  let behaviour: BankBehaviour = BankBehaviourSchema.parse(options.behaviour ?? { mode: 'normal' });

  const executions = new Map<string, Execution>();
  const executionCounts = new Map<string, number>();
  const requestCounts = new Map<string, number>();
  const pending = new Set<Execution>();
  const accountNames = new Map<string, string>();
  let bookings: Booking[] = [];
  let counter = 0;
  let delivered = 0;

  const timers = new Set<NodeJS.Timeout>();
  const pushes = new Set<Promise<void>>();
  const closing = new AbortController();
  setMaxListeners(0, closing.signal); // every push in flight (and its retry wait) listens for close

  const nextId = (prefix: string) => `${prefix}${String(++counter).padStart(10, '0')}`;

  function later(delayMs: number, run: () => void): NodeJS.Timeout {
    const timer = setTimeout(() => {
      timers.delete(timer);
      run();
    }, delayMs);
    timers.add(timer);
    return timer;
  }

  /** Answers later unless the client went away or the simulator closed meanwhile. */
  function answerLater(res: Response, delayMs: number, answer: () => void): void {
    const timer = later(delayMs, () => {
      if (!res.writableEnded && !res.destroyed) answer();
    });
    res.once('close', () => {
      clearTimeout(timer);
      timers.delete(timer);
    });
  }

  function delayFor(b: BankBehaviour): number {
    return b.delayMs ?? (b.mode === 'timeout' ? DEFAULT_TIMEOUT_DELAY_MS : DEFAULT_SLOW_DELAY_MS);
  }

  // ---- execution and booking ----

  function accountKey(account: Pain001Account): string {
    return account.iban ?? `OTHR:${account.other ?? ''}`;
  }

  function bookedTransaction(e: Execution, returnReasonCode?: string, returnReasonText?: string): BookedTransaction {
    return {
      endToEndId: e.key,
      accountServicerReference: e.reference,
      messageId: e.messageId,
      paymentInformationId: e.paymentInformationId,
      amount: e.amount,
      creditorAccount: e.creditorAccount,
      ...(e.creditorName !== undefined && { creditorName: e.creditorName }),
      ...(e.creditorAgentBic !== undefined && { creditorAgentBic: e.creditorAgentBic }),
      ...(e.remittance !== undefined && { remittance: e.remittance }),
      ...(returnReasonCode !== undefined && { returnReasonCode }),
      ...(returnReasonText !== undefined && { returnReasonText }),
    };
  }

  /** Books settled payments as debits: one batch entry per debtor account, PmtInf and currency, or one entry per payment. */
  function bookDebits(settled: readonly Execution[], asBatch: boolean): void {
    const groups = groupBy(settled, (e) => `${e.debtorIban}|${e.paymentInformationId}|${e.messageId}|${e.amount.currency}`);
    const today = isoDate(new Date());
    for (const group of groups.values()) {
      const parts = asBatch ? [group] : group.map((e) => [e]);
      for (const part of parts) {
        const first = part[0]!;
        const booking: Booking = {
          iban: first.debtorIban,
          currency: first.amount.currency,
          reference: nextId('E'),
          bookingDate: today,
          valueDate: today,
          direction: 'debit',
          reversal: false,
          amount: { minor: part.reduce((sum, e) => sum + e.amount.minor, 0n), currency: first.amount.currency },
          status: 'BOOK',
          subFamily: 'DMCT',
          transactions: part.map((e) => bookedTransaction(e)),
          ...(asBatch && { batch: { messageId: first.messageId, paymentInformationId: first.paymentInformationId } }),
        };
        bookings.push(booking);
        for (const e of part) e.entry = booking;
      }
    }
  }

  /** Applies a due settlement; returns whether the payment changed. */
  function settle(e: Execution): boolean {
    if (e.status !== 'PDNG' || e.settleAt === undefined || e.settleAt > Date.now()) return false;
    e.status = e.finalStatus;
    pending.delete(e);
    return true;
  }

  /** A read sees a due settlement at once; such a payment is booked on its own. */
  function current(e: Execution): Execution {
    if (settle(e) && e.status === 'ACSC') bookDebits([e], false);
    return e;
  }

  function settleAllDue(): void {
    for (const e of [...pending]) current(e);
  }

  function execute(message: Pain001Message, callbackUrl: string | undefined): StatusLine[] {
    const lines: StatusLine[] = [];
    const acceptedAt = new Date();
    const chunkPending: Execution[] = [];
    for (const info of message.paymentInformation) {
      const settledNow: Execution[] = [];
      const debtorIban = info.debtorAccount.iban!;
      if (info.debtorName && !accountNames.has(debtorIban)) accountNames.set(debtorIban, info.debtorName);
      for (const tx of info.transactions) {
        requestCounts.set(tx.endToEndId, (requestCounts.get(tx.endToEndId) ?? 0) + 1);
        const fingerprint = `${tx.amount.minor}|${tx.amount.currency}|${accountKey(tx.creditorAccount)}|${debtorIban}`;
        const existing = executions.get(tx.endToEndId);
        if (existing) {
          if (existing.fingerprint !== fingerprint) {
            lines.push({ endToEndId: tx.endToEndId, status: 'RJCT', reasonCode: 'DU04', reasonText: 'this EndToEndId was already used for a different payment', amount: tx.amount });
          } else {
            lines.push(statusLine(current(existing)));
          }
          continue;
        }
        const accountId = tx.creditorAccount.iban ?? tx.creditorAccount.other ?? '';
        const rule = RULES.find((r) => accountId.endsWith(r.suffix));
        const e: Execution = {
          key: tx.endToEndId,
          fingerprint,
          status: rule?.status ?? 'ACSC',
          finalStatus: rule?.finalStatus ?? 'ACSC',
          reference: nextId('T'),
          amount: tx.amount,
          debtorIban,
          creditorAccount: tx.creditorAccount,
          messageId: message.messageId,
          paymentInformationId: info.id,
          acceptedAt,
          notified: false,
          returned: false,
          ...(rule?.reasonCode !== undefined && { reasonCode: rule.reasonCode }),
          ...(rule?.status === 'PDNG' && { settleAt: acceptedAt.getTime() + settleDelayMs }),
          ...(callbackUrl !== undefined && { callbackUrl }),
          ...(info.debtorName !== undefined && { debtorName: info.debtorName }),
          ...(tx.creditorName !== undefined && { creditorName: tx.creditorName }),
          ...(tx.creditorAgentBic !== undefined && { creditorAgentBic: tx.creditorAgentBic }),
          ...(tx.remittance !== undefined && { remittance: tx.remittance }),
        };
        executions.set(e.key, e);
        executionCounts.set(e.key, (executionCounts.get(e.key) ?? 0) + 1);
        if (e.status === 'ACSC') settledNow.push(e);
        if (e.status === 'PDNG') {
          pending.add(e);
          chunkPending.push(e);
        }
        lines.push(statusLine(e));
      }
      bookDebits(settledNow, info.batchBooking);
    }
    if (chunkPending.length > 0) whenDue(acceptedAt.getTime() + settleDelayMs, () => settleChunk(chunkPending), timers);
    return lines;
  }

  function statusLine(e: Execution): StatusLine {
    const reasonCode = e.status === 'RJCT' ? e.reasonCode : undefined;
    return {
      endToEndId: e.key,
      status: e.status,
      accountServicerReference: e.reference,
      amount: e.amount,
      ...(reasonCode !== undefined && { reasonCode, reasonText: describeReason(reasonCode) ?? reasonCode }),
    };
  }

  /** Settles a chunk's pending payments (one batch booking for those still pending) and pushes their final status. */
  function settleChunk(chunkPending: readonly Execution[]): void {
    const settledNow = chunkPending.filter((e) => executions.get(e.key) === e && settle(e));
    bookDebits(
      settledNow.filter((e) => e.status === 'ACSC'),
      true,
    );
    const news = chunkPending.filter((e) => executions.get(e.key) === e && e.status !== 'PDNG' && !e.notified);
    for (const e of news) e.notified = true;
    const byUrl = groupBy(
      news.filter((e) => e.callbackUrl !== undefined),
      (e) => e.callbackUrl!,
    );
    for (const [url, list] of byUrl) {
      const completed = list.filter((e) => e.status === 'ACSC');
      if (notifyWith === 'camt.054' && completed.length > 0) {
        push(url, notification([...new Set(completed.map((e) => e.entry!))]));
        const rejected = list.filter((e) => e.status === 'RJCT');
        if (rejected.length > 0) push(url, statusReport(rejected));
      } else {
        push(url, statusReport(list));
      }
    }
  }

  function statusReport(list: readonly Execution[]): string {
    const first = list[0]!;
    return buildPain002({
      messageId: nextId('R'),
      createdAt: new Date(),
      bankBic,
      originalMessageId: first.messageId,
      paymentInformationId: first.paymentInformationId,
      transactions: list.map(statusLine),
    });
  }

  function notification(entries: readonly Booking[]): string {
    const now = new Date();
    const groups = groupBy(entries, (entry) => `${entry.iban}|${entry.currency}`);
    const reports: AccountReport[] = [...groups.values()].map((list, index) => ({
      id: nextId('N'),
      sequenceNumber: index + 1,
      iban: list[0]!.iban,
      currency: list[0]!.currency,
      ownerName: accountNames.get(list[0]!.iban) ?? 'Account holder',
      bankBic,
      createdAt: now,
      from: now,
      to: now,
      entries: list,
    }));
    return buildCamt054({ messageId: nextId('M'), createdAt: now, reports });
  }

  function returnPayment(key: string, reasonCode = 'AC04', reason?: string): { reference: string; reasonCode: string } {
    const e = executions.get(key);
    if (!e) throw Object.assign(new Error(`no payment ${key}`), { status: 404 });
    current(e);
    if (e.status !== 'ACSC') throw Object.assign(new Error(`payment ${key} is ${e.status}, only a completed payment can be returned`), { status: 409 });
    if (e.returned) throw Object.assign(new Error(`payment ${key} was already returned`), { status: 409 });
    if (!/^[A-Z0-9]{4}$/.test(reasonCode)) throw Object.assign(new Error('reasonCode must be an ISO return reason such as AC04'), { status: 400 });
    e.returned = true;
    const today = isoDate(new Date());
    const reference = nextId('E');
    const booking: Booking = {
      iban: e.debtorIban,
      currency: e.amount.currency,
      reference,
      bookingDate: today,
      valueDate: today,
      direction: 'credit',
      reversal: true,
      amount: e.amount,
      status: 'BOOK',
      subFamily: 'RRTN',
      // The return has a reference of its own; its EndToEndId ties it to the payment.
      transactions: [{ ...bookedTransaction(e, reasonCode, reason ?? describeReason(reasonCode)), accountServicerReference: reference }],
    };
    bookings.push(booking);
    if (e.callbackUrl) push(e.callbackUrl, notification([booking]));
    return { reference: booking.reference, reasonCode };
  }

  // ---- pushes ----

  function push(url: string, body: string): void {
    const mode = behaviour.callbacks ?? 'deliver';
    if (mode === 'drop') return;
    const copies = mode === 'duplicate' ? 2 : 1;
    for (let i = 0; i < copies; i++) {
      const delivery = deliver(url, body).finally(() => pushes.delete(delivery));
      pushes.add(delivery);
    }
  }

  async function deliver(url: string, body: string): Promise<void> {
    for (let attempt = 0; attempt < PUSH_ATTEMPTS && !closing.signal.aborted; attempt++) {
      try {
        const response = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/xml; charset=utf-8', [BANK_SIGNATURE_HEADER]: signBankPush(secret, body) },
          body,
          signal: AbortSignal.any([closing.signal, AbortSignal.timeout(5_000)]),
        });
        await response.arrayBuffer();
        if (response.ok) {
          delivered += 1;
          return;
        }
      } catch {
        // unreachable receiver: try again below
      }
      try {
        await sleep(200 * 5 ** attempt, undefined, { signal: closing.signal });
      } catch {
        return; // closing
      }
    }
  }

  // ---- statements ----

  function reportsFor(from: string, to: string): AccountReport[] {
    settleAllDue();
    const now = new Date();
    const groups = groupBy(bookings, (b) => `${b.iban}|${b.currency}`);
    const reports: AccountReport[] = [];
    for (const list of groups.values()) {
      const { iban, currency } = list[0]!;
      let balance = openingBalance;
      for (const b of list) if (b.bookingDate < from) balance += signed(b);
      const byDate = groupBy(
        list.filter((b) => b.bookingDate >= from && b.bookingDate <= to),
        (b) => b.bookingDate,
      );
      for (const [date, entries] of byDate) {
        const closingBalance = entries.reduce((sum, b) => sum + signed(b), balance);
        reports.push(report(iban, currency, date, now, reports.length + 1, balance, closingBalance, entries));
        balance = closingBalance;
      }
    }
    if (reports.length === 0) {
      const last = bookings.at(-1);
      const iban = last?.iban ?? BANK_SIMULATOR_TREASURY.iban;
      const currency = last?.currency ?? 'EUR';
      const balance = bookings.filter((b) => b.iban === iban && b.currency === currency && b.bookingDate <= to).reduce((sum, b) => sum + signed(b), openingBalance);
      reports.push(report(iban, currency, to, now, 1, balance, balance, []));
    }
    return reports;
  }

  function report(iban: string, currency: string, date: string, now: Date, sequenceNumber: number, opening: bigint, closing: bigint, entries: Booking[]): AccountReport {
    return {
      id: `S${date.replaceAll('-', '')}${String(sequenceNumber).padStart(4, '0')}`,
      sequenceNumber,
      iban,
      currency,
      ownerName: accountNames.get(iban) ?? (iban === BANK_SIMULATOR_TREASURY.iban ? BANK_SIMULATOR_TREASURY.name : 'Account holder'),
      bankBic,
      createdAt: now,
      from: new Date(`${date}T00:00:00Z`),
      to: new Date(`${date}T23:59:59Z`),
      openingBalance: { minor: opening, date },
      closingBalance: { minor: closing, date },
      entries,
    };
  }

  // ---- HTTP ----

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);

  app.put('/_sim/behaviour', express.json(), (req, res) => {
    const parsed = BankBehaviourSchema.safeParse(req.body);
    if (!parsed.success) {
      sendProblem(res, 400, 'validation_failed', 'Invalid behaviour', parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
      return;
    }
    behaviour = parsed.data;
    res.status(204).end();
  });

  app.get('/_sim/executions/:key', (req, res) => {
    const key = req.params.key;
    res.json({ key, executions: executionCounts.get(key) ?? 0, requests: requestCounts.get(key) ?? 0 });
  });

  app.post('/_sim/returns/:key', express.json(), (req, res) => {
    const body = (req.body ?? {}) as { reasonCode?: unknown; reason?: unknown };
    try {
      const result = returnPayment(
        req.params.key,
        typeof body.reasonCode === 'string' ? body.reasonCode : undefined,
        typeof body.reason === 'string' ? body.reason : undefined,
      );
      res.status(201).json({ key: req.params.key, ...result });
    } catch (error) {
      const e = error as Error & { status?: number };
      sendProblem(res, e.status ?? 500, 'return_refused', 'Return refused', e.message);
    }
  });

  app.post('/_sim/reset', (_req, res) => {
    reset();
    res.status(204).end();
  });

  app.use(['/pain001', '/payments', '/statements'], (_req, res, next) => {
    if (behaviour.mode === 'down') {
      sendProblem(res, 503, 'bank_unavailable', 'Service unavailable', 'The bank is down');
      return;
    }
    next();
  });

  app.post('/pain001', express.text({ type: () => true, limit: '64mb' }), (req, res) => {
    if (!/\bxml\b/i.test(req.headers['content-type'] ?? '')) {
      sendProblem(res, 415, 'unsupported_media_type', 'Unsupported media type', 'Send the pain.001 as application/xml');
      return;
    }
    const body = typeof req.body === 'string' ? req.body : '';
    const callbackHeader = req.headers['x-callback-url'];
    const callbackUrl = typeof callbackHeader === 'string' && callbackHeader !== '' ? callbackHeader : undefined;
    if (callbackUrl !== undefined && !/^https?:\/\/[^\s]+$/i.test(callbackUrl)) {
      sendProblem(res, 400, 'invalid_callback_url', 'Invalid X-Callback-URL', 'X-Callback-URL must be an http(s) URL');
      return;
    }
    let message: Pain001Message;
    try {
      message = parsePain001(body, { maxTransactions });
    } catch (error) {
      if (!(error instanceof Iso20022FormatError)) throw error;
      const originalMessageId = /<(?:\w+:)?MsgId>([^<]{1,35})<\//.exec(body)?.[1] ?? 'NOTPROVIDED';
      const xml = buildPain002({
        messageId: nextId('R'),
        createdAt: new Date(),
        bankBic,
        originalMessageId,
        groupStatus: 'RJCT',
        groupReasonCode: error.reasonCode,
        groupReasonText: error.message,
        transactions: [],
      });
      res.status(400).type('application/xml').send(xml);
      return;
    }
    const lines = execute(message, callbackUrl);
    const xml = buildPain002({
      messageId: nextId('R'),
      createdAt: new Date(),
      bankBic,
      originalMessageId: message.messageId,
      originalCreatedAt: message.createdAt,
      originalNumberOfTransactions: message.numberOfTransactions,
      originalControlSum: message.controlSum,
      paymentInformationId: message.paymentInformation[0]!.id,
      transactions: lines,
    });
    const b = behaviour;
    if (b.mode === 'timeout' || b.mode === 'slow') answerLater(res, delayFor(b), () => res.type('application/xml').send(xml));
    else res.type('application/xml').send(xml);
  });

  app.get('/payments/:key/status', (req, res) => {
    const answer = () => {
      const e = executions.get(req.params.key);
      if (!e) {
        sendProblem(res, 404, 'payment_not_found', 'Not found', 'The bank has no payment with this EndToEndId');
        return;
      }
      const xml = buildPain002({
        messageId: nextId('R'),
        createdAt: new Date(),
        bankBic,
        originalMessageId: e.messageId,
        paymentInformationId: e.paymentInformationId,
        transactions: [statusLine(current(e))],
      });
      res.type('application/xml').send(xml);
    };
    if (behaviour.mode === 'slow') answerLater(res, delayFor(behaviour), answer);
    else answer();
  });

  app.get('/statements/camt053', (req, res) => {
    const from = typeof req.query.from === 'string' ? req.query.from : '';
    const to = typeof req.query.to === 'string' ? req.query.to : '';
    const format = typeof req.query.format === 'string' ? req.query.format : 'camt053';
    if (!isValidIsoDate(from) || !isValidIsoDate(to) || from > to || !['camt053', 'mt940'].includes(format)) {
      sendProblem(res, 400, 'invalid_query', 'Invalid statement request', 'from and to must be ISO dates with from <= to; format camt053 or mt940');
      return;
    }
    const answer = () => {
      const reports = reportsFor(from, to);
      if (format === 'mt940') res.type('text/plain; charset=utf-8').send(buildMt940(reports));
      else res.type('application/xml').send(buildCamt053({ messageId: nextId('M'), createdAt: new Date(), reports }));
    };
    if (behaviour.mode === 'slow') answerLater(res, delayFor(behaviour), answer);
    else answer();
  });

  app.use((_req: Request, res: Response) => {
    sendProblem(res, 404, 'not_found', 'Not found', 'No such endpoint');
  });

  app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const e = error as { status?: unknown };
    const status = typeof e.status === 'number' && e.status >= 400 && e.status < 600 ? e.status : 500;
    if (status === 413) sendProblem(res, 413, 'body_too_large', 'The body is too large');
    else if (status === 400) sendProblem(res, 400, 'malformed_body', 'The body could not be read');
    else sendProblem(res, status, 'internal_error', 'Internal error');
  });

  function reset(): void {
    for (const timer of timers) clearTimeout(timer);
    timers.clear();
    executions.clear();
    executionCounts.clear();
    requestCounts.clear();
    pending.clear();
    accountNames.clear();
    bookings = [];
    behaviour = { mode: 'normal' };
  }

  // Keep idle connections longer than clients do, so a client never reuses one the server is closing.
  const listening = await startSimulatorServer(app, { port: options.port, host, keepAliveTimeoutMs: 30_000 });
  let closed: Promise<void> | undefined;

  return {
    url: listening.url,
    callbackSecret: secret,
    setBehaviour(next) {
      behaviour = BankBehaviourSchema.parse(next);
    },
    executions: (key) => executionCounts.get(key) ?? 0,
    executionCounts: () => new Map(executionCounts),
    requestCount: (key) => requestCounts.get(key) ?? 0,
    returnPayment,
    bookings: () => bookings.map((b) => b),
    pushesDelivered: () => delivered,
    reset,
    close() {
      closed ??= (async () => {
        closing.abort();
        for (const timer of timers) clearTimeout(timer);
        timers.clear();
        const stopped = listening.stop();
        await Promise.allSettled([...pushes]);
        await stopped;
      })();
      return closed;
    },
  };
}

function groupBy<T>(items: readonly T[], keyOf: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    const group = groups.get(key);
    if (group) group.push(item);
    else groups.set(key, [item]);
  }
  return groups;
}

function signed(b: BookedEntry): bigint {
  return b.direction === 'credit' ? b.amount.minor : -b.amount.minor;
}

function sendProblem(res: Response, status: number, code: string, title: string, detail?: string): void {
  res
    .status(status)
    .type('application/problem+json')
    .send(JSON.stringify({ type: 'about:blank', title, status, code, ...(detail ? { detail } : {}) }));
}

