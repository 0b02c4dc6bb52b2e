import { withAdvisoryLock } from '../src/db/advisory-lock.ts';
import type { ServiceContext } from '../src/services/context.ts';
import { sweepUnfinishedWork } from '../src/services/sweep-unfinished-work.ts';

/**
 * Runs the sweep every SWEEPER_INTERVAL_MS in each worker process, one process at a time. It is a timer and a
 * database lock, not a queue job, because its task is to recover from the loss of the queues themselves.
 */
export class Sweeper {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(private readonly context: ServiceContext) {}

  start(): void {
    this.timer = setInterval(() => {
      this.running ??= this.sweep().finally(() => {
        this.running = undefined;
      });
    }, this.context.config.SWEEPER_INTERVAL_MS);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  private async sweep(): Promise<void> {
    try {
      await withAdvisoryLock(this.context.db, 'kassa:sweeper', () => sweepUnfinishedWork(this.context));
    } catch (error) {
      this.context.logger.error({ err: error }, 'sweep failed; it runs again at the next interval');
    }
  }
}
