import { statusesLeadingTo } from '../../domain/order-status.ts';
import type { Database } from '../knex.ts';
import type { ChangedOrder } from './orders.ts';
import { orderFromRow, type OrderRow } from './order-rows.ts';

export interface ReturnChange {
  readonly id: string;
  /** The return reason the bank gave (ISO 20022, e.g. AC04). */
  readonly reasonCode: string;
  readonly reason: string;
  readonly detail?: Record<string, unknown>;
}

/**
 * Completed payments the payee's bank sent back become `returned`: the same guarded UPDATE and append-only
 * event as every status change, and an `order.returned` webhook delivery for orders outside a batch (a batch
 * reports its payments through its own callback). A returned order is final: it is never due a check again,
 * so nothing picks it up as unfinished work.
 */
export async function returnOrders(db: Database, changes: readonly ReturnChange[]): Promise<ChangedOrder[]> {
  if (changes.length === 0) return [];
  const from = statusesLeadingTo('returned');
  const rows = (await db.raw(
    `WITH v AS (
       SELECT * FROM jsonb_to_recordset(?::jsonb) AS x(id uuid, failure_code text, failure_reason text, detail jsonb)
     ), changed AS (
       UPDATE orders o SET status = 'returned', previous_status = o.status, updated_at = now(), next_check_at = 'infinity',
         failure_code = v.failure_code, failure_reason = v.failure_reason
       FROM v
       WHERE o.id = v.id AND o.status = ANY(?::text[])
       RETURNING o.*, v.detail AS event_detail
     ), events AS (
       INSERT INTO order_events (order_id, from_status, to_status, detail)
       SELECT id, previous_status, status, COALESCE(event_detail, '{}') FROM changed
     ), deliveries AS (
       INSERT INTO webhook_deliveries (organisation_id, order_id, event_type, url)
       SELECT c.organisation_id, c.id, 'order.returned', COALESCE(c.callback_url, w.url)
       FROM changed c JOIN webhook_endpoints w ON w.organisation_id = c.organisation_id
       WHERE c.batch_id IS NULL
       ON CONFLICT (order_id, event_type) DO NOTHING
       RETURNING id, order_id
     )
     SELECT c.*, d.id AS delivery_id FROM changed c LEFT JOIN deliveries d ON d.order_id = c.id`,
    [
      // In id order, as every status change, so overlapping changes lock their orders in the same order.
      JSON.stringify([...changes].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)).map((change) => ({ id: change.id, failure_code: change.reasonCode, failure_reason: change.reason, detail: change.detail ?? {} }))),
      from,
    ],
  )) as { rows: (OrderRow & { previous_status: 'completed'; delivery_id: string | null })[] };
  return rows.rows.map((row) => ({ order: orderFromRow(row), fromStatus: row.previous_status, webhookDeliveryId: row.delivery_id }));
}
