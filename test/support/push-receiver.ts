import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RailCallbackRequest } from '../../adapters/contract.ts';

export interface Push extends RailCallbackRequest {
  readonly headers: IncomingHttpHeaders;
  /** The request target as received, query included. */
  readonly target: string;
  readonly text: string;
  /** The payments the push is about, as the test's `keysOf` reads them. */
  readonly keys: readonly string[];
}

/** A stand-in for Kassa's callback endpoint that records what a rail simulator pushes, exactly as received. */
export interface PushReceiver {
  readonly url: string;
  readonly pushes: Push[];
  /** Arrival order shared with the test: `callback:<key>` is appended as each push arrives. */
  readonly events: string[];
  /** The status answered to each push (default 204); `attempt` counts from 0 per key. */
  answer: (key: string | undefined, attempt: number) => number;
  about(key: string): Push[];
  /** Waits until `count` pushes about the key arrived; fails after `timeoutMs`. */
  waitFor(key: string, count?: number, timeoutMs?: number): Promise<Push[]>;
  close(): Promise<void>;
}

export async function startPushReceiver(options: { path: string; keysOf: (push: { headers: IncomingHttpHeaders; text: string }) => string[] }): Promise<PushReceiver> {
  const pushes: Push[] = [];
  const events: string[] = [];
  const about = (key: string) => pushes.filter((push) => push.keys.includes(key));
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const rawBody = Buffer.concat(chunks);
      const text = rawBody.toString('utf8');
      const keys = options.keysOf({ headers: req.headers, text });
      const [key] = keys;
      const attempt = key === undefined ? 0 : about(key).length;
      pushes.push({ headers: { ...req.headers }, target: req.url ?? '', rawBody, text, keys });
      events.push(`callback:${key}`);
      res.statusCode = receiver.answer(key, attempt);
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const receiver: PushReceiver = {
    url: `http://127.0.0.1:${port}${options.path}`,
    pushes,
    events,
    answer: () => 204,
    about,
    async waitFor(key, count = 1, timeoutMs = 5_000) {
      const deadline = Date.now() + timeoutMs;
      while (about(key).length < count) {
        if (Date.now() > deadline) assert.fail(`${about(key).length} of ${count} pushes about ${key} within ${timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      return about(key);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
  return receiver;
}
