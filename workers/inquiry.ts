import type { Job } from 'bullmq';
import { inquiryJobSchema } from '../src/queue/payloads.ts';
import type { ServiceContext } from '../src/services/context.ts';
import { inquireOrder } from '../src/services/inquire-order.ts';
import { rescheduleJob } from './reschedule.ts';

export function inquiryProcessor(context: ServiceContext) {
  return async (job: Job, token?: string): Promise<void> => {
    const { orderId, attempt } = inquiryJobSchema.parse(job.data);
    const followUp = await inquireOrder(context, orderId, attempt);
    if (followUp) await rescheduleJob(job, token, { orderId, attempt: followUp.attempt }, followUp.delayMs);
  };
}
