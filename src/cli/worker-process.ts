import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';

const KASSA_BIN = fileURLToPath(new URL('../../bin/kassa.js', import.meta.url));
const RESTART_DELAY_MS = 1_000;

export interface SupervisedWorkers {
  /** Resolves once the first worker process reports that its workers are running. */
  readonly ready: Promise<void>;
  stop(): Promise<void>;
}

/** What `kassa worker` sends its parent, when it has one, once its workers run. */
export const WORKERS_READY = 'kassa:workers-ready';

/**
 * Runs `kassa worker` as a child of `kassa start`, so the workers and the API each have an event loop (and
 * a core) of their own, and starts it again if it dies: orders it had in hand are recovered by the sweeper.
 */
export function superviseWorkerProcess(environment: NodeJS.ProcessEnv, logger: Logger): SupervisedWorkers {
  let child: ChildProcess | undefined;
  let stopping = false;
  let restartTimer: NodeJS.Timeout | undefined;
  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => {
    markReady = resolve;
  });

  const launch = () => {
    const started = fork(KASSA_BIN, ['worker'], { env: environment, stdio: 'inherit' });
    child = started;
    started.on('message', (message) => {
      if (message === WORKERS_READY) markReady();
    });
    started.once('exit', (code, signal) => {
      if (child === started) child = undefined;
      if (stopping) return;
      logger.error({ code, signal }, 'worker process ended unexpectedly; starting it again');
      restartTimer = setTimeout(launch, RESTART_DELAY_MS);
    });
  };
  launch();

  return {
    ready,
    async stop() {
      stopping = true;
      clearTimeout(restartTimer);
      const running = child;
      if (!running || running.exitCode !== null) return;
      const exited = new Promise((resolve) => running.once('exit', resolve));
      running.kill('SIGTERM');
      await exited;
    },
  };
}
