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

/** Stops every child worker still running; for `after`/`afterEach` hooks. */
export async function stopAllChildWorkers(): Promise<void> {
  await Promise.all([...running].map((child) => child.stop()));
}

function isReadyLine(line: string): boolean {
  try {
    return (JSON.parse(line) as { msg?: unknown }).msg === READY_MESSAGE;
  } catch {
    return false;
  }
}
