import { createReadStream } from 'node:fs';
import { Readable, Transform } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { CliClientConfig } from '../config/cli-client.ts';

/** The money of one outcome, as the API shows it: a count and a decimal amount in the batch's currency. */
export interface OutcomeTotals {
  readonly count: number;
  readonly amount: string;
}

/** The batch as `GET /v1/batches/{id}` shows it (the fields the CLI reads). */
export interface BatchView {
  readonly id: string;
  readonly status: 'validating' | 'awaiting_approval' | 'scheduled' | 'processing' | 'completed' | 'rejected' | 'cancelled';
  readonly correlation_id: string;
  readonly reference: string | null;
  readonly currency: string;
  readonly control: { readonly count: number | null; readonly totals: Readonly<Record<string, string>> | null };
  readonly rows: number;
  readonly validation: { readonly valid: number; readonly invalid: number; readonly valid_total: string };
  readonly funds: { readonly blocked: string; readonly disbursed: string };
  readonly payments: {
    readonly completed: OutcomeTotals;
    readonly failed: OutcomeTotals;
    readonly cancelled: OutcomeTotals;
    readonly in_progress: OutcomeTotals;
    readonly not_sent: OutcomeTotals;
  };
  readonly approval: { readonly approved_by: string | null; readonly approved_at: string | null } | null;
  readonly rejection: { readonly code: string; readonly reason: string | null } | null;
  readonly execute_at: string | null;
  readonly completed_at: string | null;
}

/** One row of `GET /v1/batches/{id}/payments`. */
export interface BatchRowView {
  readonly row: number;
  readonly instruction_id: string;
  readonly payee_identity: string | null;
  readonly amount: string | null;
  readonly currency: string;
  readonly outcome: string;
  readonly reason: { readonly code: string; readonly detail: string | null } | null;
}

/** The envelope of a CSV batch: it travels in the query string, the file in the body. */
export interface CsvEnvelope {
  readonly program: string;
  readonly controlCount: number;
  /** `KES:125.00[,CUR:amount…]` */
  readonly controlTotal: string;
  readonly correlationId: string;
  readonly reference?: string;
  readonly executeAt?: string;
  readonly callbackUrl?: string;
}

/** An RFC 9457 problem the API answered, or a failure to reach it at all (status 0). */
export class KassaApiError extends Error {
  override name = 'KassaApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    readonly detail: string,
    readonly errors: readonly { readonly field: string; readonly reason: string }[] = [],
  ) {
    super(detail);
  }
}

/** A small HTTP client for the batch endpoints of a running Kassa, for the `kassa batch` commands. */
export class BatchClient {
  constructor(private readonly config: CliClientConfig) {}

  get baseUrl(): string {
    return this.config.url;
  }

  /**
   * Uploads the file as the request body, streamed (never read whole into memory); `onSent` hears the bytes
   * handed to the connection so far. Answers the batch and whether it was found under the correlation id.
   */
  async submitCsv(path: string, envelope: CsvEnvelope, onSent: (bytes: number) => void = () => {}): Promise<{ batch: BatchView; replayed: boolean }> {
    const query = new URLSearchParams({ program: envelope.program, control_count: String(envelope.controlCount), control_total: envelope.controlTotal });
    if (envelope.reference) query.set('reference', envelope.reference);
    if (envelope.executeAt) query.set('execute_at', envelope.executeAt);
    if (envelope.callbackUrl) query.set('callback_url', envelope.callbackUrl);
    let sent = 0;
    const counting = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        sent += chunk.length;
        onSent(sent);
        done(null, chunk);
      },
    });
    const file = createReadStream(path);
    file.on('error', (error) => counting.destroy(error));
    const body = Readable.toWeb(file.pipe(counting)) as WebReadableStream<Uint8Array>;
    const response = await this.request('POST', `/v1/batches?${query}`, {
      headers: { 'content-type': 'text/csv', 'idempotency-key': envelope.correlationId },
      body,
    });
    const batch = (await this.json(response)) as BatchView;
    return { batch, replayed: response.headers.get('idempotent-replayed') === 'true' };
  }

  async batch(id: string): Promise<BatchView> {
    return (await this.json(await this.request('GET', `/v1/batches/${encodeURIComponent(id)}`))) as BatchView;
  }

  /** The batches of the caller's organisation, newest first, a page at a time. */
  async batches(options: { cursor?: string; limit?: number } = {}): Promise<{ data: BatchView[]; next_cursor: string | null }> {
    const query = new URLSearchParams({ limit: String(options.limit ?? 100), ...(options.cursor ? { cursor: options.cursor } : {}) });
    return (await this.json(await this.request('GET', `/v1/batches?${query}`))) as { data: BatchView[]; next_cursor: string | null };
  }

  /** Rows not paid (invalid, failed, cancelled), a page at a time. */
  async unpaidRows(id: string, afterRow = 0, limit = 1000): Promise<{ data: BatchRowView[]; next_after_row: number | null }> {
    const query = new URLSearchParams({ outcome: 'unpaid', after_row: String(afterRow), limit: String(limit) });
    return (await this.json(await this.request('GET', `/v1/batches/${encodeURIComponent(id)}/payments?${query}`))) as { data: BatchRowView[]; next_after_row: number | null };
  }

  /** The failures file as Kassa writes it, as a stream: a batch of a million rows is never held in memory. */
  async unpaidCsv(id: string): Promise<Readable> {
    const response = await this.request('GET', `/v1/batches/${encodeURIComponent(id)}/payments?outcome=unpaid&format=csv`);
    if (!response.ok) throw await problemOf(response);
    if (!response.body) throw new KassaApiError(response.status, 'empty_response', 'Kassa answered without a body');
    return Readable.fromWeb(response.body as WebReadableStream<Uint8Array>);
  }

  /**
   * The checker's approval. The idempotency key is the batch's own, so running the command again after a lost
   * answer replays the approval instead of failing.
   */
  async approve(id: string): Promise<BatchView> {
    const response = await this.request('POST', `/v1/batches/${encodeURIComponent(id)}/approve`, { headers: { 'idempotency-key': `kassa-cli-approve-${id}` } });
    return (await this.json(response)) as BatchView;
  }

  private async request(method: string, path: string, init: { headers?: Record<string, string>; body?: WebReadableStream<Uint8Array> } = {}): Promise<Response> {
    const url = `${this.config.url}${path}`;
    try {
      return await fetch(url, {
        method,
        headers: { accept: 'application/json, application/problem+json, text/csv', authorization: `Bearer ${this.config.apiKey}`, ...init.headers },
        ...(init.body ? { body: init.body as ReadableStream<Uint8Array>, duplex: 'half' } : {}),
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      throw new KassaApiError(0, 'unreachable', `cannot reach Kassa at ${this.config.url}: ${cause?.code ?? cause?.message ?? (error as Error).message}`);
    }
  }

  private async json(response: Response): Promise<unknown> {
    if (!response.ok) throw await problemOf(response);
    return response.json();
  }
}

async function problemOf(response: Response): Promise<KassaApiError> {
  const text = await response.text().catch(() => '');
  try {
    const problem = JSON.parse(text) as { code?: string; detail?: string; title?: string; errors?: { field: string; reason: string }[] };
    return new KassaApiError(response.status, problem.code ?? `http_${response.status}`, problem.detail ?? problem.title ?? `HTTP ${response.status}`, problem.errors ?? []);
  } catch {
    return new KassaApiError(response.status, `http_${response.status}`, `HTTP ${response.status} ${response.statusText}${text ? `: ${text.slice(0, 200)}` : ''}`);
  }
}
