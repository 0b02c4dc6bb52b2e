import type { Job } from 'bullmq';
import { webhookJobSchema } from '../src/queue/payloads.ts';
import type { ServiceContext } from '../src/services/context.ts';
import { deliverWebhook } from '../src/services/deliver-webhook.ts';
import { rescheduleJob } from './reschedule.ts';

export function webhookProcessor(context: ServiceContext) {
  return async (job: Job, token?: string): Promise<void> => {
    const { deliveryId } = webhookJobSchema.parse(job.data);
    const retryInMs = await deliverWebhook(context, deliveryId);
    if (retryInMs !== undefined) await rescheduleJob(job, token, { deliveryId }, retryInMs);
  };
}
