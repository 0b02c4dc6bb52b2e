import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { orderReaching } from '../support/kassa.ts';
import { apiClient, benefitOrder } from '../support/http.ts';
import { freePort } from '../support/ports.ts';

const KASSA = fileURLToPath(new URL('../../bin/kassa.js', import.meta.url));

/** Resolves with what `kassa start` printed once its banner names the API and the demo credential. */
function banner(child: ChildProcess): Promise<{ url: string; apiKey: string; simulatorUrl: string }> {
  return new Promise((resolve, reject) => {
    const lines: string[] = [];
    const errors: string[] = [];
    createInterface({ input: child.stderr! }).on('line', (line) => errors.push(line));
    child.once('exit', (code) => reject(new Error(`kassa start exited (${code}) before its banner:\n${[...lines, ...errors].join('\n')}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      lines.push(line);
      const text = lines.join('\n');
      const url = /Kassa is running at (\S+)/.exec(text)?.[1];
      const simulatorUrl = /sandbox rail: (\S+)/.exec(text)?.[1];
      const apiKey = /demo credential \(.*\): (\S+)/.exec(text)?.[1];
      if (url && simulatorUrl && apiKey) resolve({ url, apiKey, simulatorUrl });
    });
  });
}

function listening(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname);
    socket.once('connect', () => socket.end(() => resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

describe('kassa start, as the quickstart runs it (embedded PostgreSQL, worker process, simulator thread)', function () {
  this.timeout(180_000);
  let dataDir: string;
  let child: ChildProcess;

  before(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'kassa-start-'));
    // The embedded PostgreSQL runs as the `postgres` user when the tests run as root.
    chmodSync(dataDir, 0o755);
    const env = {
      PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', KASSA_DATA_DIR: dataDir, LOG_LEVEL: 'warn', DEMO_CREDENTIAL: 'true',
      PORT: String(await freePort()), SANDBOX_SIMULATOR_PORT: String(await freePort()), EMBEDDED_POSTGRES_PORT: String(await freePort()),
    };
    child = spawn(process.execPath, [KASSA, 'start'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  });

  after(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('when an order is posted with the printed credential, then the sandbox rail completes it, and SIGTERM stops everything with exit code 0', async () => {
    const started = await banner(child);
    const api = apiClient(started.url, started.apiKey);
    const created = await api.post('/v1/orders', benefitOrder(), randomUUID());
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const completed = await orderReaching(api, created.body.id, 'completed');
    assert.equal(completed.id, created.body.id);

    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
    assert.equal(await listening(started.url), false, 'the API is closed');
    assert.equal(await listening(started.simulatorUrl), false, 'the simulator thread is closed');
  });
});
