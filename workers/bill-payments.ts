import type { Job } from 'bullmq';
import { billPaymentJobSchema } from '../src/queue/payloads.ts';
import type { ServiceContext } from '../src/services/context.ts';
import { forwardBillPayment } from '../src/services/forward-bill-payment.ts';
import { rescheduleJob } from './reschedule.ts';

export function billPaymentProcessor(context: ServiceContext) {
  return async (job: Job, token?: string): Promise<void> => {
    const { paymentId, attempt } = billPaymentJobSchema.parse(job.data);
    const retryInMs = await forwardBillPayment(context, paymentId, attempt);
    if (retryInMs !== undefined) await rescheduleJob(job, token, { paymentId, attempt: attempt + 1 }, retryInMs);
  };
}
