import type { Logger } from 'pino';
import { z } from 'zod';
import type { ReconSchedule } from '../config/index.ts';
import { RECONCILIATION_QUEUE } from './names.ts';
import type { QueueProducers } from './producers.ts';

/** A scheduled pull: which rail, and how many days before today its statement also covers. */
export const reconciliationJobSchema = z.object({ rail: z.string().min(1), lookbackDays: z.number().int().min(0).max(31) });
export type ReconciliationJob = z.infer<typeof reconciliationJobSchema>;

const SCHEDULER_PREFIX = 'reconcile-';

/**
 * Puts the configured schedules (RECON_SCHEDULES) on BullMQ job schedulers, one per entry, so that exactly one
 * pull is due at a time whichever worker takes it; schedulers no longer configured are removed. Rails without
 * statements are refused at start, as a misconfiguration.
 */
export async function scheduleReconciliations(queues: QueueProducers, schedules: readonly ReconSchedule[], rails: { ids(): string[]; statements(id: string): boolean }, logger: Logger): Promise<void> {
  const queue = queues.queue(RECONCILIATION_QUEUE);
  const wanted = new Set<string>();
  for (const [index, schedule] of schedules.entries()) {
    if (!rails.ids().includes(schedule.rail)) throw new Error(`RECON_SCHEDULES: "${schedule.rail}" is not a rail of this deployment (${rails.ids().join(', ')})`);
    if (!rails.statements(schedule.rail)) throw new Error(`RECON_SCHEDULES: the rail ${schedule.rail} has no statements to pull`);
    const id = `${SCHEDULER_PREFIX}${schedule.rail}-${index}`;
    wanted.add(id);
    const data: ReconciliationJob = { rail: schedule.rail, lookbackDays: schedule.lookbackDays ?? 0 };
    await queue.upsertJobScheduler(id, schedule.cron !== undefined ? { pattern: schedule.cron, tz: 'UTC' } : { every: schedule.every! }, {
      name: 'pull', data, opts: { attempts: 3, backoff: { type: 'exponential', delay: 30_000 }, removeOnComplete: { count: 100 }, removeOnFail: { count: 100 } },
    });
  }
  for (const scheduler of await queue.getJobSchedulers()) {
    const id = scheduler.key;
    if (id.startsWith(SCHEDULER_PREFIX) && !wanted.has(id)) await queue.removeJobScheduler(id);
  }
  if (schedules.length > 0) logger.info({ schedules: [...wanted] }, 'statement pulls scheduled');
}
