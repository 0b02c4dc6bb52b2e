import { z } from 'zod';

/** Jobs carry ids only: the database holds the truth, and a job that outlives a change reads the change. */
export const dispatchJobSchema = z.object({ orderIds: z.array(z.uuid()).min(1) });
export type DispatchJob = z.infer<typeof dispatchJobSchema>;

export const inquiryJobSchema = z.object({ orderId: z.uuid(), attempt: z.number().int().min(0) });
export type InquiryJob = z.infer<typeof inquiryJobSchema>;

export const webhookJobSchema = z.object({ deliveryId: z.uuid() });
export type WebhookJob = z.infer<typeof webhookJobSchema>;

export const callbackJobSchema = z.object({ deliveryId: z.uuid() });
export type CallbackJob = z.infer<typeof callbackJobSchema>;

/** `attempt` counts the looks at the payment's order, which space out while it is not final. */
export const billPaymentJobSchema = z.object({ paymentId: z.uuid(), attempt: z.number().int().min(0) });
export type BillPaymentJob = z.infer<typeof billPaymentJobSchema>;

export const batchJobSchema = z.object({ batchId: z.uuid() });
export type BatchJob = z.infer<typeof batchJobSchema>;

/** A range of a batch's rows (by row number, both ends included) to turn into payments and send. */
export const batchChunkJobSchema = z.object({ batchId: z.uuid(), fromRow: z.number().int().min(1), toRow: z.number().int().min(1) });
export type BatchChunkJob = z.infer<typeof batchChunkJobSchema>;
