import type { Job } from 'bullmq';
import { SWEEP_JOB } from '../src/queue/payloads.ts';
import type { ServiceContext } from '../src/services/context.ts';
import { sweepUnfinishedWork } from '../src/services/sweep-unfinished-work.ts';

export function maintenanceProcessor(context: ServiceContext) {
  return async (job: Job) => {
    if (job.name !== SWEEP_JOB) throw new Error(`unknown maintenance job "${job.name}"`);
    return sweepUnfinishedWork(context);
  };
}
