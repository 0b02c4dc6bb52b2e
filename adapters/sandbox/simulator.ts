/**
 * Sandbox rail simulator: a local payment rail over HTTP on loopback, used by `kassa start`, the
 * pipeline fault tests and the benchmarks. All state is in memory; nothing is logged per request.
 *
 * Protocol
 * - `POST /v1/transfers` body `{ transfers: [{ key, kind: 'fee'|'benefit', amount_minor: "<positive
 *   integer string>", currency, payer: { type, value, institution? }, payee: {…}, reference }] }`
 *   (1..2000 items) → 200 `{ results: [{ key, status: 'completed'|'pending'|'failed', rail_reference?,
 *   reason_code?, reason? }] }`, one result per item, in order. A malformed body → 400 problem JSON.
 * - Idempotency: each `key` is executed at most once, ever. A repeated key with the same payment
 *   (kind, amount, currency, payer, payee) is not executed again: it answers the key's current
 *   state. A repeated key with a different payment is answered `failed` with reason_code `DU05`
 *   (ISO 20022 "duplicate instruction id") and no rail_reference; the first execution is untouched.
 * - `GET /v1/transfers/:key` → 200 `{ key, status, rail_reference, reason_code?, reason? }`, or 404
 *   problem JSON if the key was never executed.
 * - Outcome by the payee's `value`: ends with `0000` → failed `AC04` "closed account"; ends with
 *   `0001` → failed `AM04` "insufficient funds"; ends with `0002` → `pending`, becoming `completed`
 *   `settleDelayMs` later (visible via GET or a repeated POST); anything else → `completed`.
 *   rail_reference is `SBX-<counter>`. A decline counts as an execution (the rail processed it).
 * - Behaviour (`setBehaviour` or `PUT /_sim/behaviour` with `{ mode, delayMs? }`):
 *   `normal`; `down` → every `/v1` request gets 503 problem JSON and nothing is executed or
 *   counted; `timeout` → transfers are executed, but the POST answer is held `delayMs` (default
 *   60000) so the client times out, while GET answers normally; `slow` → POST and GET are executed
 *   and answered after `delayMs` (default 1000).
 * - Control (never affected by behaviour): `PUT /_sim/behaviour` → 204; `GET /_sim/executions/:key`
 *   → `{ key, executions, requests }`; `POST /_sim/reset` → 204.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import express, { type NextFunction, type Request, type Response } from 'express';
import { z } from 'zod';

export const SANDBOX_MAX_TRANSFERS_PER_REQUEST = 2000;

export const SandboxBehaviourSchema = z.object({
  mode: z.enum(['normal', 'down', 'timeout', 'slow']),
  delayMs: z.number().int().min(0).max(600_000).optional(),
});
export type SandboxBehaviour = z.infer<typeof SandboxBehaviourSchema>;

export interface SandboxSimulatorOptions {
  /** 0 (the default) picks a free port. */
  readonly port?: number;
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** How long a `…0002` payee stays pending before it completes; default 500 ms. */
  readonly settleDelayMs?: number;
  /** Default `{ mode: 'normal' }`. */
  readonly behaviour?: SandboxBehaviour;
}

export interface SandboxSimulator {
  /** Base URL, e.g. `http://127.0.0.1:40123`, without a trailing slash. */
  readonly url: string;
  setBehaviour(behaviour: SandboxBehaviour): void;
  /** How many times the rail executed the key (0 or 1: the simulator never executes a key twice). */
  executions(railKey: string): number;
  executionCounts(): ReadonlyMap<string, number>;
  /** How many transfer items named the key across all accepted POSTs, duplicates included. */
  requestCount(railKey: string): number;
  /** Forgets every transfer and count and returns to `normal`; rail references keep increasing. */
  reset(): void;
  /** Closes promptly, dropping held requests and open connections. */
  close(): Promise<void>;
}

const DEFAULT_TIMEOUT_DELAY_MS = 60_000;
const DEFAULT_SLOW_DELAY_MS = 1_000;

const PartySchema = z.object({
  type: z.string().min(1).max(32),
  value: z.string().min(1).max(256),
  institution: z.string().min(1).max(64).optional(),
});

const TransferSchema = z.object({
  key: z.string().min(1).max(200),
  kind: z.enum(['fee', 'benefit']),
  amount_minor: z.string().regex(/^[1-9]\d{0,18}$/, 'must be a positive integer string of minor units'),
  currency: z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code'),
  payer: PartySchema,
  payee: PartySchema,
  reference: z.string().max(500),
});
type Transfer = z.infer<typeof TransferSchema>;

const TransfersRequestSchema = z.object({
  transfers: z.array(TransferSchema).min(1).max(SANDBOX_MAX_TRANSFERS_PER_REQUEST),
});

type TransferStatus = 'completed' | 'pending' | 'failed';

interface StoredTransfer {
  readonly fingerprint: string;
  readonly railReference: string;
  status: TransferStatus;
  readonly reasonCode?: string;
  readonly reason?: string;
  /** Epoch ms at which a pending transfer completes. */
  readonly settleAt?: number;
}

interface WireResult {
  key: string;
  status: TransferStatus;
  rail_reference?: string;
  reason_code?: string;
  reason?: string;
}

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

function fieldErrors(error: z.ZodError): { field: string; reason: string }[] {
  return error.issues.map((issue) => ({ field: issue.path.join('.') || '(body)', reason: issue.message }));
}

export async function startSandboxSimulator(options: SandboxSimulatorOptions = {}): Promise<SandboxSimulator> {
  const host = options.host ?? '127.0.0.1';
  const settleDelayMs = options.settleDelayMs ?? 500;
  let behaviour: SandboxBehaviour = SandboxBehaviourSchema.parse(options.behaviour ?? { mode: 'normal' });

  const transfers = new Map<string, StoredTransfer>();
  const executionCount = new Map<string, number>();
  const requestCounts = new Map<string, number>();
  let referenceCounter = 0;

  const heldTimers = new Set<NodeJS.Timeout>();
  const sockets = new Set<Socket>();

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

  /** Returns the stored transfer with a due pending settlement applied. */
  function current(key: string): StoredTransfer | undefined {
    const stored = transfers.get(key);
    if (stored && stored.status === 'pending' && stored.settleAt !== undefined && stored.settleAt <= Date.now()) {
      stored.status = 'completed';
    }
    return stored;
  }

  function toWire(key: string, stored: StoredTransfer): WireResult {
    const result: WireResult = { key, status: stored.status, rail_reference: stored.railReference };
    if (stored.reasonCode !== undefined) result.reason_code = stored.reasonCode;
    if (stored.reason !== undefined) result.reason = stored.reason;
    return result;
  }

  function execute(t: Transfer): StoredTransfer {
    const railReference = `SBX-${++referenceCounter}`;
    const fingerprint = fingerprintOf(t);
    const payee = t.payee.value;
    let stored: StoredTransfer;
    if (payee.endsWith('0000')) {
      stored = { fingerprint, railReference, status: 'failed', reasonCode: 'AC04', reason: 'closed account' };
    } else if (payee.endsWith('0001')) {
      stored = { fingerprint, railReference, status: 'failed', reasonCode: 'AM04', reason: 'insufficient funds' };
    } else if (payee.endsWith('0002')) {
      stored = { fingerprint, railReference, status: 'pending', settleAt: Date.now() + settleDelayMs };
    } else {
      stored = { fingerprint, railReference, status: 'completed' };
    }
    transfers.set(t.key, stored);
    executionCount.set(t.key, (executionCount.get(t.key) ?? 0) + 1);
    return stored;
  }

  function handle(t: Transfer): WireResult {
    requestCounts.set(t.key, (requestCounts.get(t.key) ?? 0) + 1);
    const existing = current(t.key);
    if (!existing) return toWire(t.key, execute(t));
    if (existing.fingerprint !== fingerprintOf(t)) {
      return {
        key: t.key,
        status: 'failed',
        reason_code: 'DU05',
        reason: 'duplicate key: this key was already used for a different payment',
      };
    }
    return toWire(t.key, existing);
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

  app.get('/_sim/executions/:key', (req, res) => {
    const key = req.params.key;
    res.json({ key, executions: executionCount.get(key) ?? 0, requests: requestCounts.get(key) ?? 0 });
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

  app.post('/v1/transfers', (req, res) => {
    const parsed = TransfersRequestSchema.safeParse(req.body);
    if (!parsed.success) {
      sendProblem(res, 400, 'validation_failed', 'The request is not valid', undefined, { errors: fieldErrors(parsed.error) });
      return;
    }
    const items = parsed.data.transfers;
    const results = new Array<WireResult>(items.length);
    for (let i = 0; i < items.length; i++) results[i] = handle(items[i]!);
    const b = behaviour;
    if (b.mode === 'timeout' || b.mode === 'slow') {
      answerLater(res, delayFor(b), () => res.json({ results }));
    } else {
      res.json({ results });
    }
  });

  app.get('/v1/transfers/:key', (req, res) => {
    const answer = () => {
      const key = req.params.key;
      const stored = current(key);
      if (!stored) sendProblem(res, 404, 'not_found', 'Not found', 'No transfer was executed under this key');
      else res.json(toWire(key, stored));
    };
    const b = behaviour;
    if (b.mode === 'slow') answerLater(res, delayFor(b), answer);
    else answer();
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

  function reset(): void {
    transfers.clear();
    executionCount.clear();
    requestCounts.clear();
    behaviour = { mode: 'normal' };
  }

  const server: Server = createServer(app);
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const urlHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  let closing: Promise<void> | undefined;

  return {
    url: `http://${urlHost}:${address.port}`,
    setBehaviour(next) {
      behaviour = SandboxBehaviourSchema.parse(next);
    },
    executions: (key) => executionCount.get(key) ?? 0,
    executionCounts: () => new Map(executionCount),
    requestCount: (key) => requestCounts.get(key) ?? 0,
    reset,
    close() {
      closing ??= new Promise<void>((resolve) => {
        for (const timer of heldTimers) clearTimeout(timer);
        heldTimers.clear();
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
        sockets.clear();
      });
      return closing;
    },
  };
}
