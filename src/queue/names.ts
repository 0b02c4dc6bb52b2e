/** One dispatch queue per rail, so a rail that is down holds only its own orders. */
export const dispatchQueueName = (rail: string) => `dispatch-${rail}`;
export const INQUIRY_QUEUE = 'inquiry';
export const WEBHOOK_QUEUE = 'webhooks';
export const CALLBACK_QUEUE = 'callbacks';
/**
 * Batch work runs on three queues, so a million-row batch's chunks never keep another batch from being
 * validated, nor the monitor from reporting: lifecycle steps (validate, execute, the flow's parent), the
 * chunks themselves, and the monitor's ticks.
 */
export const BATCH_QUEUE = 'batches';
export const BATCH_CHUNK_QUEUE = 'batch-chunks';
export const BATCH_MONITOR_QUEUE = 'batch-monitor';
/** Scheduled statement pulls and their reconciliation, one job scheduler per configured schedule. */
export const RECONCILIATION_QUEUE = 'reconciliation';
/** The periodic run that expires vouchers past their validity and releases their budget. */
export const VOUCHER_EXPIRY_QUEUE = 'voucher-expiry';
/** Bill payments followed until their order is final, then their mark-paid notice forwarded until the biller takes it. */
export const BILL_PAYMENT_QUEUE = 'bill-payments';

export const allQueueNames = (rails: readonly string[]) => [...rails.map(dispatchQueueName), INQUIRY_QUEUE, WEBHOOK_QUEUE, CALLBACK_QUEUE, BATCH_QUEUE, BATCH_CHUNK_QUEUE, BATCH_MONITOR_QUEUE, RECONCILIATION_QUEUE, BILL_PAYMENT_QUEUE, VOUCHER_EXPIRY_QUEUE];
