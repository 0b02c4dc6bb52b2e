import type { Job } from 'bullmq';
import { dispatchJobSchema } from '../src/queue/payloads.ts';
import type { ServiceContext } from '../src/services/context.ts';
import { dispatchOrders } from '../src/services/dispatch-orders.ts';

/** `holdQueue` pauses the whole rail queue (an open circuit) and puts the job back without counting an attempt. */
export function dispatchProcessor(context: ServiceContext, rail: string, holdQueue: (untilMs: number) => Promise<never>) {
  return async (job: Job): Promise<void> => {
    const { orderIds } = dispatchJobSchema.parse(job.data);
    const { holdUntilMs } = await dispatchOrders(context, rail, orderIds);
    if (holdUntilMs !== undefined) await holdQueue(holdUntilMs);
  };
}
