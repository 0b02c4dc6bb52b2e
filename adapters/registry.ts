import type { OrderKind, Party } from '../src/domain/order.ts';
import type { RailAdapter, RailDirection } from './contract.ts';
import { SandboxRailAdapter } from './sandbox/adapter.ts';

/** The rails Kassa can use, in order of preference: `choose` picks the first that serves a payment. */

export interface RailRegistry {
  get(id: string): RailAdapter;
  ids(): string[];
  choose(payment: { kind: OrderKind; payer: Party; payee: Party; currency: string }): RailAdapter;
  close(): Promise<void>;
}

export interface RailSettings {
  sandboxUrl: string;
  timeoutMs: number;
}

interface RailEntry {
  readonly id: string;
  readonly create: (settings: RailSettings) => RailAdapter;
}

/** The explicit list of rails, most preferred first. Specific rails go ahead of the sandbox. */
const RAILS: readonly RailEntry[] = [
  {
    id: SandboxRailAdapter.id,
    create: (settings) => new SandboxRailAdapter({ baseUrl: settings.sandboxUrl, timeoutMs: settings.timeoutMs }),
  },
];

export function directionOf(kind: OrderKind): RailDirection {
  return kind === 'benefit' ? 'disbursement' : 'collection';
}

export function createRailRegistry(settings: RailSettings): RailRegistry {
  const adapters: RailAdapter[] = [];
  const byId = new Map<string, RailAdapter>();
  for (const entry of RAILS) {
    const adapter = entry.create(settings);
    if (adapter.id !== entry.id) throw new Error(`rail registry: entry "${entry.id}" built an adapter with id "${adapter.id}"`);
    if (byId.has(adapter.id)) throw new Error(`rail registry: rail "${adapter.id}" is listed twice`);
    byId.set(adapter.id, adapter);
    adapters.push(adapter);
  }

  return {
    get(id) {
      const adapter = byId.get(id);
      if (!adapter) throw new Error(`unknown rail "${id}"; known rails: ${[...byId.keys()].join(', ')}`);
      return adapter;
    },
    ids: () => adapters.map((a) => a.id),
    choose(payment) {
      const direction = directionOf(payment.kind);
      const counterparty = payment.kind === 'benefit' ? payment.payee : payment.payer;
      const chosen = adapters.find(
        ({ capabilities: c }) =>
          c.directions.includes(direction) &&
          c.partyTypes.includes(counterparty.type) &&
          (c.currencies.includes('*') || c.currencies.includes(payment.currency)),
      );
      if (!chosen) {
        throw new Error(
          `no rail serves a ${payment.kind} (${direction}) to a ${counterparty.type} party in ${payment.currency}; ` +
            `rails: ${adapters.map((a) => a.id).join(', ')}`,
        );
      }
      return chosen;
    },
    async close() {
      const results = await Promise.allSettled(adapters.map((a) => a.close()));
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
    },
  };
}
