/** One dispatch queue per rail, so a rail that is down holds only its own orders. */
export const dispatchQueueName = (rail: string) => `dispatch-${rail}`;
export const INQUIRY_QUEUE = 'inquiry';
export const WEBHOOK_QUEUE = 'webhooks';
export const CALLBACK_QUEUE = 'callbacks';
/** Batch work: validation, execution (a flow of chunk jobs) and the monitor that aggregates and settles. */
export const BATCH_QUEUE = 'batches';

export const allQueueNames = (rails: readonly string[]) => [...rails.map(dispatchQueueName), INQUIRY_QUEUE, WEBHOOK_QUEUE, CALLBACK_QUEUE, BATCH_QUEUE];
