/** One dispatch queue per rail, so a rail that is down holds only its own orders. */
export const dispatchQueueName = (rail: string) => `dispatch-${rail}`;
export const INQUIRY_QUEUE = 'inquiry';
export const WEBHOOK_QUEUE = 'webhooks';
