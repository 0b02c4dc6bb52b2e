import type { Job } from 'bullmq';
import { dispatchJobSchema } from '../src/queue/payloads.ts';
import type { ServiceContext } from '../src/services/context.ts';
import { dispatchOrders } from '../src/services/dispatch-orders.ts';

export function dispatchProcessor(context: ServiceContext, rail: string) {
  return async (job: Job): Promise<void> => {
    const { orderIds } = dispatchJobSchema.parse(job.data);
    await dispatchOrders(context, rail, orderIds);
  };
}
