import { z } from 'zod';

/** Jobs carry ids only: the database holds the truth, and a job that outlives a change reads the change. */
export const dispatchJobSchema = z.object({ orderIds: z.array(z.uuid()).min(1) });
export type DispatchJob = z.infer<typeof dispatchJobSchema>;

export const inquiryJobSchema = z.object({ orderId: z.uuid(), attempt: z.number().int().min(0) });
export type InquiryJob = z.infer<typeof inquiryJobSchema>;

export const webhookJobSchema = z.object({ deliveryId: z.uuid() });
export type WebhookJob = z.infer<typeof webhookJobSchema>;
