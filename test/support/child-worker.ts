import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { TestKassa } from './kassa.ts';

/** The repository root, where `bin/kassa.js` lives. */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const READY_MESSAGE = 'Kassa workers running';
const KEPT_LINES = 200;

export interface ChildWorker {
  readonly pid: number;
  /** True once the process has exited (or was killed). */
  readonly exited: boolean;
  /** Sends the signal and waits until the process has exited. */
  kill(signal: NodeJS.Signals): Promise<void>;
  /** SIGTERM (workers finish their active jobs), then waits for the exit; SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
  /** The last lines the child wrote to stdout and stderr, for failure messages. */
  output(): string;
}

const running = new Set<ChildWorker>();

// A child must never outlive the test run, even when mocha exits before an `after` hook ran.
process.once('exit', () => {
  for (const child of running) {
    try {
      process.kill(child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

/**
 * Starts `node bin/kassa.js worker` as a separate process joined to the given Kassa (its database, its
 * queues, its sandbox rail) and resolves once the child logs that its workers are running.
 */
export async function startChildWorker(kassa: TestKassa, options: { env?: Record<string, string>; readyTimeoutMs?: number } = {}): Promise<ChildWorker> {
  const env: Record<string, string> = {
    ...kassa.childEnvironment,
    LOG_LEVEL: 'info',
    ...(process.env.PATH ? { PATH: process.env.PATH } : {}),
    ...(process.env.HOME ? { HOME: process.env.HOME } : {}),
    ...options.env,
  };
  const process_: ChildProcess = spawn(process.execPath, ['bin/kassa.js', 'worker'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  if (process_.pid === undefined) throw new Error('could not spawn `kassa worker`');
  const pid = process_.pid;

  const lines: string[] = [];
  const keep = (stream: string, line: string) => {
    lines.push(`[${stream}] ${line}`);
    if (lines.length > KEPT_LINES) lines.shift();
  };
  let exited = false;
  let exitDescription = '';
  const exit = new Promise<void>((resolve) => {
    process_.once('exit', (code, signal) => {
      exited = true;
      exitDescription = signal ? `signal ${signal}` : `code ${code}`;
      resolve();
    });
  });

  let onReady: (() => void) | undefined;
  const ready = new Promise<void>((resolve) => {
    onReady = resolve;
  });
  // Both pipes are drained for the child's whole life: a full pipe would block its logging.
  const watch = (stream: NodeJS.ReadableStream, name: string) => {
    let pending = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      pending += chunk;
      let newline: number;
      while ((newline = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, newline);
        pending = pending.slice(newline + 1);
        keep(name, line);
        if (name === 'stdout' && isReadyLine(line)) onReady?.();
      }
    });
  };
  watch(process_.stdout!, 'stdout');
  watch(process_.stderr!, 'stderr');

  const output = () => lines.join('\n');
  const kill = async (signal: NodeJS.Signals) => {
    if (!exited) process_.kill(signal);
    await exit;
    running.delete(child);
  };
  const child: ChildWorker = {
    pid,
    get exited() {
      return exited;
    },
    kill,
    async stop(graceMs = 15_000) {
      if (exited) {
        running.delete(child);
        return;
      }
      process_.kill('SIGTERM');
      const timer = setTimeout(() => process_.kill('SIGKILL'), graceMs);
      await exit;
      clearTimeout(timer);
      running.delete(child);
    },
    output,
  };
  running.add(child);

  const timeoutMs = options.readyTimeoutMs ?? 30_000;
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    ready.then(() => 'ready' as const),
    exit.then(() => 'exited' as const),
    new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    }),
  ]);
  clearTimeout(timer);
  if (outcome !== 'ready') {
    await kill('SIGKILL');
    const why = outcome === 'exited' ? `exited (${exitDescription}) before it was ready` : `was not ready within ${timeoutMs} ms`;
    throw new Error(`child \`kassa worker\` ${why}; its output:\n${output()}`);
  }
  return child;
}

/** The child workers a suite's tests start, kept so its `afterEach` can show their output and stop them. */
export interface ChildWorkers {
  /** Starts a child worker joined to `kassa` and keeps it until `stop`. */
  start(kassa: TestKassa, options?: { env?: Record<string, string>; readyTimeoutMs?: number }): Promise<ChildWorker>;
  /** The children started since the last `stop`. */
  readonly started: readonly ChildWorker[];
  /**
   * For `afterEach`, before the Kassa the children joined stops: prints their last lines when `test` failed, since
   * what went wrong in a child shows only in its own log, then stops every child still running.
   */
  stop(test: Mocha.Test | undefined): Promise<void>;
}

export function childWorkersPerTest(): ChildWorkers {
  let started: ChildWorker[] = [];
  return {
    async start(kassa, options) {
      const child = await startChildWorker(kassa, options);
      started.push(child);
      return child;
    },
    get started() {
      return started;
    },
    async stop(test) {
      if (test?.state === 'failed') {
        for (const child of started) console.error(`--- child worker ${child.pid} output (last lines):\n${child.output()}`);
      }
      started = [];
      await Promise.all([...running].map((child) => child.stop()));
    },
  };
}

function isReadyLine(line: string): boolean {
  try {
    return (JSON.parse(line) as { msg?: unknown }).msg === READY_MESSAGE;
  } catch {
    return false;
  }
}
