import assert from 'node:assert/strict';
import type { Knex } from 'knex';
import type { JsonResponse } from '../support/http.ts';

/** The tables an accepted order writes to; a refused request must leave every one of them as it was. */
export const ORDER_TABLES = ['orders', 'order_events', 'outbox', 'idempotency_keys', 'audit_log'] as const;

export type RowCounts = Record<string, number>;

export async function rowCounts(db: Knex, tables: readonly string[] = ORDER_TABLES): Promise<RowCounts> {
  const counts: RowCounts = {};
  for (const table of tables) {
    const [row] = (await db(table).count({ count: '*' })) as { count: string | number }[];
    counts[table] = Number(row!.count);
  }
  return counts;
}

/** Runs `action` and asserts that it wrote nothing to the given tables. */
export async function assertNothingWritten<T>(db: Knex, action: () => Promise<T>, tables: readonly string[] = ORDER_TABLES): Promise<T> {
  const before = await rowCounts(db, tables);
  const result = await action();
  assert.deepEqual(await rowCounts(db, tables), before, 'a refused request must not write anything');
  return result;
}

/** Asserts an RFC 9457 problem with the given status and stable code. */
export function assertProblem(response: JsonResponse, status: number, code: string): void {
  assert.equal(response.status, status, `expected ${status} ${code}, got ${response.status} ${JSON.stringify(response.body)}`);
  assert.match(response.contentType, /^application\/problem\+json/);
  assert.equal(response.body.status, status);
  assert.equal(response.body.code, code);
  assert.equal(typeof response.body.title, 'string');
  assert.equal(typeof response.body.type, 'string');
}

/** Asserts a 422 validation problem naming exactly these fields (order-insensitive), each with a reason. */
export function assertInvalidFields(response: JsonResponse, fields: readonly string[]): void {
  assertProblem(response, 422, 'validation_failed');
  assert.ok(Array.isArray(response.body.errors), 'a validation problem lists its errors');
  for (const error of response.body.errors as { field: unknown; reason: unknown }[]) {
    assert.equal(typeof error.field, 'string');
    assert.equal(typeof error.reason, 'string');
    assert.ok((error.reason as string).length > 0, `${String(error.field)} has an empty reason`);
  }
  const named = [...new Set((response.body.errors as { field: string }[]).map((error) => error.field))].sort();
  assert.deepEqual(named, [...fields].sort());
}

export function feeOrder(overrides: Record<string, unknown> = {}) {
  return {
    kind: 'fee',
    amount: '125.5',
    currency: 'KES',
    payer: { type: 'msisdn', value: '+254711000111' },
    payee: { type: 'iban', value: 'GB82WEST12345698765432', institution: 'treasury' },
    reference: 'passport fee A1234',
    ...overrides,
  };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
