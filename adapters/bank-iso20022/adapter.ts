import { randomBytes } from 'node:crypto';
import { setMaxListeners } from 'node:events';
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
import { notificationsFromCamt054, parseCamt053, parseCamt054, statementEntries } from './camt.ts';
import { decisionFor } from './error-decisions.ts';
import { parseMt940, statementEntriesFromMt940 } from './mt940.ts';
import { BankOptionsSchema, type BankOptions, type BankOptionsInput } from './options.ts';
import { buildPain001, creditTransferProblem, railKeyProblem } from './pain001.ts';
import { notificationsFromPain002, outcomesFor, parsePain002, type Pain002Report } from './pain002.ts';
import { BANK_SIGNATURE_HEADER, checkBankSignature } from './signature.ts';
import { documentNamespace, isValidIsoDate } from './xml.ts';
import { fetchFailureOf, singleHeader } from '../http-failure.ts';

/**
 * Kassa's ISO 20022 bank rail: benefits paid out as SEPA-style credit transfers from the
 * government's account. The bank's host-to-host interface (see ./simulator.ts for the local one):
 * - `POST {baseUrl}/pain001` (application/xml): one pain.001.001.09 per chunk, header
 *   `X-Callback-URL` (where to push later statuses); answered 200 with a pain.002 carrying the
 *   group and per-transaction statuses. The bank executes each EndToEndId at most once: a resend
 *   of the same payment answers its current status.
 * - `GET {baseUrl}/payments/{EndToEndId}/status`: a pain.002 for that transaction, or 404 when the
 *   bank has no record of it.
 * - Pushes to the callback URL: a pain.002 or camt.054, signed `X-Bank-Signature: t=…,v1=…`.
 * - `GET {baseUrl}/statements/camt053?from=YYYY-MM-DD&to=YYYY-MM-DD[&format=mt940]`: camt.053
 *   (or MT940) statements of the account for reconciliation.
 */

export const BANK_ISO20022_RAIL_ID = 'bank-iso20022';
export const BANK_MAX_CHUNK_SIZE = 1000;

export class BankIso20022Adapter implements RailAdapter {
  static readonly id = BANK_ISO20022_RAIL_ID;
  readonly id = BANK_ISO20022_RAIL_ID;
  readonly capabilities: RailCapabilities = Object.freeze({
    directions: Object.freeze(['disbursement'] as const),
    partyTypes: Object.freeze(['iban', 'bank_account'] as const),
    currencies: Object.freeze(['*']),
    bulk: true,
    maxChunkSize: BANK_MAX_CHUNK_SIZE, // one pain.001 carries at most 1,000 transactions (the Mojaloop / G2P lesson)
    callbacks: true,
    refunds: false, // a sent credit transfer can only come back as a return initiated by the creditor's bank
    statements: true,
  });

  private readonly options: BankOptions;
  private readonly closing = new AbortController();

  constructor(options: BankOptionsInput | BankOptions) {
    const parsed = BankOptionsSchema.safeParse(options);
    if (!parsed.success) {
      const detail = parsed.error.issues.map((i) => `${i.path.join('.') || 'options'}: ${i.message}`).join('; ');
      throw new Error(`bank-iso20022: invalid option ${detail}`);
    }
    this.options = parsed.data;
    setMaxListeners(0, this.closing.signal); // one listener per request in flight, removed when it ends
  }

  /**
   * Sends one pain.001 per piece of at most maxChunkSize payments sharing a callback URL. A payment
   * the bank could not accept (not a bank account, no valid IBAN, unknown currency…) is failed
   * before sending, with the ISO reason the bank would give. If the first piece fails and nothing
   * else was decided the call throws; otherwise the failed piece's payments (and the unsent rest)
   * carry the error while the other outcomes stand.
   */
  async initiateChunk(payments: readonly RailPayment[]): Promise<ReadonlyMap<string, RailOutcome | RailError>> {
    const outcomes = new Map<string, RailOutcome | RailError>();
    const seen = new Set<string>();
    for (const payment of payments) {
      const problem = railKeyProblem(payment.railKey);
      if (problem) throw new Error(`bank-iso20022: ${problem}`);
      if (seen.has(payment.railKey)) throw new Error(`bank-iso20022: rail key ${payment.railKey} occurs twice in the chunk`);
      seen.add(payment.railKey);
    }

    const byCallback = new Map<string, RailPayment[]>();
    for (const payment of payments) {
      const problem = creditTransferProblem(payment);
      if (problem) {
        outcomes.set(payment.railKey, { status: 'failed', reasonCode: problem.reasonCode, reason: `not sent to the bank: ${problem.reason}` });
        continue;
      }
      const group = byCallback.get(payment.callbackUrl) ?? [];
      group.push(payment);
      byCallback.set(payment.callbackUrl, group);
    }
    const pieces: { callbackUrl: string; payments: RailPayment[] }[] = [];
    for (const [callbackUrl, group] of byCallback) {
      for (let start = 0; start < group.length; start += BANK_MAX_CHUNK_SIZE) {
        pieces.push({ callbackUrl, payments: group.slice(start, start + BANK_MAX_CHUNK_SIZE) });
      }
    }

    for (let index = 0; index < pieces.length; index++) {
      const piece = pieces[index]!;
      try {
        for (const [key, outcome] of await this.sendPiece(piece.payments, piece.callbackUrl)) outcomes.set(key, outcome);
      } catch (error) {
        // Nothing decided yet: the whole call failed. Otherwise the decided outcomes stand beside the error.
        if ((index === 0 && outcomes.size === 0) || !(error instanceof RailError)) throw error;
        for (const p of piece.payments) outcomes.set(p.railKey, error);
        const notSent = new RailError(error.decision === 'unavailable' ? 'unavailable' : 'retry', 'not sent: an earlier pain.001 of the chunk failed', error.railCode);
        for (const rest of pieces.slice(index + 1)) for (const p of rest.payments) outcomes.set(p.railKey, notSent);
        break;
      }
    }
    return outcomes;
  }

  async getStatus(railKey: string): Promise<RailStatus> {
    const { status, body } = await this.send('GET', `/payments/${encodeURIComponent(railKey)}/status`);
    if (status === 404) return { status: 'not_found' };
    this.throwUnlessOk(status, body, 'status inquiry');
    const report = this.readPain002(body, 'status inquiry');
    const outcome = outcomesFor(report, [railKey]).get(railKey);
    if (!outcome) throw new RailError('unknown', `bank answered the status inquiry for ${railKey} without its status`, 'missing_result');
    return outcome;
  }

  /** Verifies X-Bank-Signature on the raw bytes, then reads the pushed pain.002 or camt.054. */
  async parseCallback(request: RailCallbackRequest): Promise<readonly RailNotification[]> {
    const header = singleHeader(request.headers, BANK_SIGNATURE_HEADER);
    const check = checkBankSignature(this.options.callbackSecret, request.rawBody, header);
    if (check !== 'valid') throw new RailCallbackRejected(`bank-iso20022: push refused: ${SIGNATURE_PROBLEMS[check]}`);
    const namespace = documentNamespace(request.rawBody.toString('utf8')) ?? '';
    try {
      if (/:pain\.002\.001\.\d\d$/.test(namespace)) return notificationsFromPain002(parsePain002(request.rawBody));
      if (/:camt\.054\.001\.\d\d$/.test(namespace)) return notificationsFromCamt054(parseCamt054(request.rawBody));
    } catch (error) {
      throw new RailCallbackRejected(`bank-iso20022: push refused: ${(error as Error).message}`);
    }
    throw new RailCallbackRejected(`bank-iso20022: push refused: expected a pain.002 or camt.054 document, got ${namespace ? `namespace ${namespace}` : 'no ISO 20022 document'}`);
  }

  /** The account's booked entries from `from` to `to` (inclusive ISO dates), from camt.053 or MT940 per statementFormat. */
  async fetchStatement(range: { readonly from: string; readonly to: string }): Promise<readonly RailStatementEntry[]> {
    if (!isValidIsoDate(range.from) || !isValidIsoDate(range.to) || range.from > range.to) {
      throw new Error(`bank-iso20022: statement range ${range.from}..${range.to} must be two ISO dates, from <= to`);
    }
    const mt940 = this.options.statementFormat === 'mt940';
    const query = new URLSearchParams({ from: range.from, to: range.to, ...(mt940 && { format: 'mt940' }) });
    const { status, body } = await this.send('GET', `/statements/camt053?${query}`);
    this.throwUnlessOk(status, body, 'statement request');
    return body.trimStart().startsWith('<') ? statementEntries(parseCamt053(body)) : statementEntriesFromMt940(parseMt940(body));
  }

  async close(): Promise<void> {
    this.closing.abort(new Error('adapter closed'));
  }

  private async sendPiece(piece: readonly RailPayment[], callbackUrl: string): Promise<Map<string, RailOutcome | RailError>> {
    const message = buildPain001({
      messageId: newMessageId(),
      createdAt: new Date(),
      initiatingPartyName: this.options.initiatingPartyName,
      debtor: { name: this.options.debtorName, iban: this.options.debtorIban, bic: this.options.debtorBic },
      payments: piece,
    });
    const headers: Record<string, string> = callbackUrl ? { 'x-callback-url': callbackUrl } : {};
    const { status, body } = await this.send('POST', '/pain001', message.xml, headers);
    this.throwUnlessOk(status, body, `pain.001 ${message.messageId}`);
    const report = this.readPain002(body, `pain.001 ${message.messageId}`);
    if (report.originalMessageId !== message.messageId) {
      throw new RailError('unknown', `bank answered pain.001 ${message.messageId} with a status report for ${report.originalMessageId}`, 'bad_response');
    }
    const outcomes = new Map<string, RailOutcome | RailError>();
    const known = outcomesFor(report, piece.map((p) => p.railKey));
    for (const p of piece) {
      outcomes.set(p.railKey, known.get(p.railKey) ?? new RailError('unknown', 'bank answered without a status for this EndToEndId', 'missing_result'));
    }
    return outcomes;
  }

  /** A 2xx answer that is not a readable pain.002: the bank may well have executed the message. */
  private readPain002(body: string, what: string): Pain002Report {
    try {
      return parsePain002(body);
    } catch (error) {
      throw new RailError('unknown', `bank answered the ${what} with an unreadable pain.002: ${(error as Error).message}`, 'bad_response');
    }
  }

  private throwUnlessOk(status: number, body: string, what: string): void {
    if (status >= 200 && status < 300) return;
    const decision = decisionFor({ kind: 'http', status });
    const detail = errorDetail(body);
    const message = `bank refused the ${what} with HTTP ${status}${detail ? `: ${detail}` : ''}`;
    if (decision === 'bug') throw new Error(`bank-iso20022: ${message}`);
    throw new RailError(decision, message, `HTTP_${status}`);
  }

  /**
   * One HTTP exchange, body included, under the timeout; failures below HTTP become RailErrors. A GET
   * that meets a connection the bank had just closed (a stale keep-alive) is tried once more: reading
   * a status or a statement has no effect to repeat.
   */
  private async send(method: 'GET' | 'POST', path: string, body?: string, extraHeaders: Record<string, string> = {}): Promise<{ status: number; body: string }> {
    try {
      return await this.exchange(method, path, body, extraHeaders);
    } catch (error) {
      if (method !== 'GET' || !(error instanceof RailError) || !STALE_CONNECTION_CODES.has(error.railCode ?? '')) throw error;
      return this.exchange(method, path, body, extraHeaders);
    }
  }

  private async exchange(method: 'GET' | 'POST', path: string, body: string | undefined, extraHeaders: Record<string, string>): Promise<{ status: number; body: string }> {
    if (this.closing.signal.aborted) throw new Error('bank-iso20022 adapter is closed');
    // One controller per request (rather than AbortSignal.any) so no listener stays behind on the adapter's signal.
    const request = new AbortController();
    const onClose = () => request.abort(new DOMException('adapter closed', 'AbortError'));
    this.closing.signal.addEventListener('abort', onClose, { once: true });
    const timer = setTimeout(() => request.abort(new DOMException(`no answer within ${this.options.timeoutMs} ms`, 'TimeoutError')), this.options.timeoutMs);
    const headers: Record<string, string> = { accept: 'application/xml, text/plain', ...extraHeaders };
    if (body !== undefined) headers['content-type'] = 'application/xml; charset=utf-8';
    try {
      const response = await fetch(`${this.options.baseUrl}${path}`, { method, headers, body, signal: request.signal });
      return { status: response.status, body: await response.text() };
    } catch (error) {
      if (this.closing.signal.aborted) throw new RailError('unknown', `bank ${method} ${path}: adapter closed while the request was in flight`, 'closed');
      const failure = fetchFailureOf(error);
      const decision = decisionFor(failure);
      const code = failure.kind === 'network' ? failure.code : failure.kind;
      const message =
        failure.kind === 'timeout'
          ? `bank ${method} ${path}: no answer within ${this.options.timeoutMs} ms`
          : `bank ${method} ${path}: ${code ?? (error instanceof Error ? error.message : String(error))}`;
      throw new RailError(decision === 'bug' ? 'unknown' : decision, message, code);
    } finally {
      clearTimeout(timer);
      this.closing.signal.removeEventListener('abort', onClose);
    }
  }
}

/** Errors of a keep-alive connection the server closed just as it was reused. */
const STALE_CONNECTION_CODES: ReadonlySet<string> = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET']);

const SIGNATURE_PROBLEMS: Readonly<Record<Exclude<ReturnType<typeof checkBankSignature>, 'valid'>, string>> = {
  missing: `no ${BANK_SIGNATURE_HEADER} header`,
  malformed: `${BANK_SIGNATURE_HEADER} is not "t=<seconds>,v1=<hex>"`,
  stale: `${BANK_SIGNATURE_HEADER} timestamp is outside the accepted window (a replay?)`,
  mismatch: `${BANK_SIGNATURE_HEADER} does not match the body (forged or altered)`,
};

/** 16 characters, unique per message: fits GrpHdr/MsgId, PmtInfId and MT940 references. */
function newMessageId(): string {
  return `K${Date.now().toString(36).toUpperCase().padStart(9, '0')}${randomBytes(3).toString('hex').toUpperCase()}`;
}

/** The reason a refusal gives: the AddtlInf of a pain.002 rejection, a problem+json detail, or the start of the text. */
function errorDetail(body: string): string | undefined {
  const text = body.trim();
  if (text === '') return undefined;
  if (text.startsWith('<')) {
    try {
      const report = parsePain002(text);
      const reasons = report.groupReasons.map((r) => [r.code, ...r.additionalInformation].filter(Boolean).join(' ')).join('; ');
      if (reasons) return reasons;
    } catch {
      // not a pain.002: fall through
    }
  } else if (text.startsWith('{')) {
    try {
      const problem = JSON.parse(text) as { detail?: unknown; title?: unknown };
      if (typeof problem.detail === 'string') return problem.detail;
      if (typeof problem.title === 'string') return problem.title;
    } catch {
      // not JSON: fall through
    }
  }
  return text.length > 200 ? `${text.slice(0, 197)}...` : text;
}
