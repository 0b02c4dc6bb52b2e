import { randomUUID } from 'node:crypto';
import type { Payee } from './payees.ts';

export interface IntakeOptions {
  readonly url: string;
  readonly apiKey: string;
  readonly orders: readonly OrderBody[];
  readonly concurrency: number;
}

export interface OrderBody {
  readonly kind: 'benefit';
  readonly amount: string;
  readonly currency: string;
  readonly payer: { readonly type: 'bank_account'; readonly value: string };
  readonly payee: Payee;
  readonly reference: string;
}

export interface IntakeResult {
  readonly accepted: number;
  readonly seconds: number;
  /** Responses other than 201 by status code, and requests that got no response at all under "network". */
  readonly refused: Readonly<Record<string, number>>;
  /** One problem body per refusal status, to show what went wrong. */
  readonly samples: Readonly<Record<string, string>>;
}

const PROGRESS_EVERY_MS = 5_000;

/**
 * POSTs every order once, each under its own Idempotency-Key, with at most `concurrency` requests in flight.
 * Node's fetch keeps connections alive by default, so the workers reuse at most `concurrency` sockets.
 */
export async function submitOrders(options: IntakeOptions): Promise<IntakeResult> {
  const refused: Record<string, number> = {};
  const samples: Record<string, string> = {};
  let accepted = 0;
  let next = 0;
  const started = performance.now();
  const progress = setInterval(() => console.log(`  intake ${((performance.now() - started) / 1000).toFixed(0)} s: ${accepted} of ${options.orders.length} accepted`), PROGRESS_EVERY_MS);
  const worker = async () => {
    while (next < options.orders.length) {
      const outcome = await postOrder(options.url, options.apiKey, options.orders[next++]!);
      if (outcome.status === '201') accepted += 1;
      else {
        refused[outcome.status] = (refused[outcome.status] ?? 0) + 1;
        samples[outcome.status] ??= outcome.detail;
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(options.concurrency, options.orders.length) }, worker));
  } finally {
    clearInterval(progress);
  }
  return { accepted, seconds: (performance.now() - started) / 1000, refused, samples };
}

async function postOrder(url: string, apiKey: string, order: OrderBody): Promise<{ status: string; detail: string }> {
  try {
    const response = await fetch(`${url}/v1/orders`, {
      method: 'POST',
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json', 'idempotency-key': randomUUID() },
      body: JSON.stringify(order),
    });
    const text = await response.text();
    return { status: String(response.status), detail: text };
  } catch (error) {
    return { status: 'network', detail: error instanceof Error ? `${error.message} ${String(error.cause ?? '')}` : String(error) };
  }
}
