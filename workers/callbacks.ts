import type { Job } from 'bullmq';
import { callbackJobSchema } from '../src/queue/payloads.ts';
import type { ServiceContext } from '../src/services/context.ts';
import { deliverCallback } from '../src/services/deliver-callback.ts';
import { rescheduleJob } from './reschedule.ts';

export function callbackProcessor(context: ServiceContext) {
  return async (job: Job, token?: string): Promise<void> => {
    const { deliveryId } = callbackJobSchema.parse(job.data);
    const retryInMs = await deliverCallback(context, deliveryId);
    if (retryInMs !== undefined) await rescheduleJob(job, token, { deliveryId }, retryInMs);
  };
}
