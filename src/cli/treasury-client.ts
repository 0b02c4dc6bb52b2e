import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { CliClientConfig } from '../config/cli-client.ts';
import type { DailyReportView } from '../services/present-daily-report.ts';
import { KassaApiError } from './batch-client.ts';

/** A reconciliation run as the API shows it (the fields the CLI prints). */
export interface RunView {
  readonly id: string;
  readonly rail: string;
  readonly period: { readonly from: string | null; readonly to: string | null };
  readonly status: string;
  readonly lines: number;
  readonly matched: number;
  readonly unmatched: number;
  readonly exceptions: number;
  readonly exceptions_by_type: Readonly<Record<string, number>>;
  readonly confirmed: number;
  readonly returned: number;
}

export interface StatementView {
  readonly id: string;
  readonly rail: string;
  readonly format: string;
  readonly lines: number;
  readonly period: { readonly from: string | null; readonly to: string | null };
}

export interface ImportAnswer {
  readonly statement: StatementView;
  readonly duplicate: boolean;
  readonly run: RunView | null;
}

/** The treasury endpoints of a running Kassa, for `kassa statements import`, `kassa reconcile` and `kassa report daily`. */
export class TreasuryClient {
  constructor(private readonly config: CliClientConfig) {}

  /** Uploads the file as it is read (a statement CSV of a million lines is never held in memory). */
  async importStatement(path: string, options: { rail?: string; reconcile: boolean }): Promise<ImportAnswer> {
    const file = await stat(path);
    if (!file.isFile()) throw Object.assign(new Error(`${path} is not a file`), { code: 'EISDIR' });
    const query = new URLSearchParams({ reconcile: String(options.reconcile), ...(options.rail ? { rail: options.rail } : {}) });
    const body = Readable.toWeb(createReadStream(path)) as WebReadableStream<Uint8Array>;
    return (await this.json(await this.request('POST', `/v1/statements?${query}`, { 'content-type': 'application/octet-stream' }, body))) as ImportAnswer;
  }

  /** Pulls the rail's statement for the dates and reconciles it. */
  async reconcile(request: { rail: string; from: string; to: string; idempotencyKey: string }): Promise<ImportAnswer> {
    const payload = request.from === request.to ? { rail: request.rail, date: request.from } : { rail: request.rail, from: request.from, to: request.to };
    const body = Readable.toWeb(Readable.from([JSON.stringify(payload)])) as WebReadableStream<Uint8Array>;
    return (await this.json(await this.request('POST', '/v1/reconciliation/runs', { 'content-type': 'application/json', 'idempotency-key': request.idempotencyKey }, body))) as ImportAnswer;
  }

  /** The day's report as the API shows it. */
  async dailyReport(request: { date: string; organisationId?: string }): Promise<DailyReportView> {
    return (await this.json(await this.request('GET', `/v1/reports/daily?${reportQuery(request, 'json')}`, {}))) as DailyReportView;
  }

  /** The day's report as the API's CSV, unchanged. */
  async dailyReportCsv(request: { date: string; organisationId?: string }): Promise<string> {
    return this.text(await this.request('GET', `/v1/reports/daily?${reportQuery(request, 'csv')}`, {}));
  }

  private async request(method: string, path: string, headers: Record<string, string>, body?: WebReadableStream<Uint8Array>): Promise<Response> {
    try {
      return await fetch(`${this.config.url}${path}`, {
        method,
        headers: { accept: 'application/json, application/problem+json', authorization: `Bearer ${this.config.apiKey}`, ...headers },
        body: body as ReadableStream<Uint8Array>,
        duplex: 'half',
      } as RequestInit);
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      throw new KassaApiError(0, 'unreachable', `cannot reach Kassa at ${this.config.url}: ${cause?.code ?? cause?.message ?? (error as Error).message}`);
    }
  }

  private async json(response: Response): Promise<unknown> {
    return JSON.parse(await this.text(response));
  }

  private async text(response: Response): Promise<string> {
    const text = await response.text();
    if (response.ok) return text;
    try {
      const problem = JSON.parse(text) as { code?: string; detail?: string; title?: string; errors?: { field: string; reason: string }[] };
      throw new KassaApiError(response.status, problem.code ?? `http_${response.status}`, problem.detail ?? problem.title ?? `HTTP ${response.status}`, problem.errors ?? []);
    } catch (error) {
      if (error instanceof KassaApiError) throw error;
      throw new KassaApiError(response.status, `http_${response.status}`, `HTTP ${response.status} ${response.statusText}${text ? `: ${text.slice(0, 200)}` : ''}`);
    }
  }
}

function reportQuery(request: { date: string; organisationId?: string }, format: 'json' | 'csv'): URLSearchParams {
  return new URLSearchParams({ date: request.date, format, ...(request.organisationId ? { organisation_id: request.organisationId } : {}) });
}
