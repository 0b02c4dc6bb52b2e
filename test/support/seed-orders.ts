import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';

export interface SeededOrder {
  readonly id: string;
  readonly railKey: string;
}

export interface OrderSeed {
  readonly organisationId: string;
  readonly railKey: string;
  readonly status?: string;
  readonly amountMinor?: bigint;
  readonly currency?: string;
  readonly kind?: 'fee' | 'benefit';
  readonly rail?: string;
  /** The counterparty's account (payee of a benefit, payer of a fee). */
  readonly account?: string;
  /** When the order reached its status (updated_at). */
  readonly at?: Date;
}

/** Orders written straight into the database in a given status, for tests of what reads them (a statement's matching). */
export async function seedOrders(db: Knex, seeds: readonly OrderSeed[]): Promise<SeededOrder[]> {
  const rows = seeds.map((seed) => {
    const account = seed.account ?? 'DE89370400440532013000';
    const party = { type: 'iban', value: account };
    const treasury = { type: 'iban', value: 'DE02120300000000202051' };
    const kind = seed.kind ?? 'benefit';
    const at = (seed.at ?? new Date()).toISOString();
    return {
      id: randomUUID(), organisation_id: seed.organisationId, kind, status: seed.status ?? 'completed',
      amount_minor: (seed.amountMinor ?? 1000n).toString(), currency: seed.currency ?? 'EUR',
      payer: kind === 'benefit' ? treasury : party, payee: kind === 'benefit' ? party : treasury, reference: `seeded ${seed.railKey}`,
      rail: seed.rail ?? 'sandbox', rail_key: seed.railKey, created_at: at, updated_at: at,
    };
  });
  if (rows.length > 0) await db('orders').insert(rows);
  return rows.map((row) => ({ id: row.id, railKey: row.rail_key }));
}

export async function organisationIdOf(db: Knex, name: string): Promise<string> {
  const row = (await db('organisations').where({ name }).first()) as { id: string } | undefined;
  if (!row) throw new Error(`no organisation ${name}`);
  return row.id;
}
