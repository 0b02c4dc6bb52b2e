import { DelayedError, type Job } from 'bullmq';

/**
 * Puts the job back to sleep under its own id instead of adding a new one, so the one job per order
 * or delivery that the id stands for stays the only one.
 */
export async function rescheduleJob(job: Job, token: string | undefined, data: unknown, delayMs: number): Promise<never> {
  await job.updateData(data);
  await job.moveToDelayed(Date.now() + delayMs, token);
  throw new DelayedError();
}
