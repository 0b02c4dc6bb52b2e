import type { Job } from 'bullmq';
import { dispatchJobSchema } from '../src/queue/payloads.ts';
import type { ServiceContext } from '../src/services/context.ts';
import { dispatchOrders } from '../src/services/dispatch-orders.ts';
import { rescheduleJob } from './reschedule.ts';

/** While the rail's circuit is open the job sleeps until the circuit's retry time; sleeping counts no attempt. */
export function dispatchProcessor(context: ServiceContext, rail: string) {
  return async (job: Job, token?: string): Promise<void> => {
    const data = dispatchJobSchema.parse(job.data);
    const { holdUntilMs } = await dispatchOrders(context, rail, data.orderIds);
    if (holdUntilMs !== undefined) await rescheduleJob(job, token, data, Math.max(holdUntilMs - Date.now(), 1));
  };
}
