import type { z } from 'zod';
import { ConfigError, type Config, type RailRoute } from '../src/config/index.ts';
import type { OrderKind, Party } from '../src/domain/order.ts';
import type { RailAdapter, RailDefinition, RailDirection } from './contract.ts';
import { bankIso20022Rail } from './bank-iso20022/index.ts';
import { gsmaMobileMoneyRail } from './gsma-mobile-money/index.ts';
import { sandboxRail } from './sandbox/index.ts';
import { stripeRail } from './stripe/index.ts';

/** Every rail Kassa can use, listed explicitly; RAILS in the configuration says which are switched on. */
const RAIL_DEFINITIONS = [sandboxRail, bankIso20022Rail, gsmaMobileMoneyRail, stripeRail] as unknown as readonly RailDefinition<never>[];

/** Options every rail takes besides its adapter's own: they shape its dispatch queue. */
export interface RailQueueSettings {
  readonly concurrency: number | undefined;
  readonly ratePerSecond: number | undefined;
}

export interface RoutablePayment {
  readonly kind: OrderKind;
  readonly payer: Party;
  readonly payee: Party;
  readonly currency: string;
}

export interface RailRegistry {
  get(id: string): RailAdapter;
  ids(): string[];
  /** The rail the routing table picks for a payment; throws NoRailRoute when none does. */
  route(payment: RoutablePayment): RailAdapter;
  queueSettings(id: string): RailQueueSettings;
  /**
   * The second rail for a payment routed to `railId`, when its route names one that can carry it and the
   * policy allows it (disbursements fail over only with RAIL_FAILOVER_DISBURSEMENTS).
   */
  failover(railId: string, payment: RoutablePayment): RailAdapter | undefined;
  close(): Promise<void>;
}

export class NoRailRoute extends Error {
  override name = 'NoRailRoute';
}

export function directionOf(kind: OrderKind): RailDirection {
  return kind === 'benefit' ? 'disbursement' : 'collection';
}

/** The party on the far side of the government account: who is paid for a benefit, who pays for a fee. */
export function counterpartyOf(payment: Pick<RoutablePayment, 'kind' | 'payer' | 'payee'>): Party {
  return payment.kind === 'benefit' ? payment.payee : payment.payer;
}

const variablePrefix = (id: string) => `RAIL_${id.toUpperCase().replaceAll('-', '_')}_`;
const camelCase = (name: string) => name.toLowerCase().replace(/_([a-z0-9])/g, (_, letter: string) => letter.toUpperCase());

/** RAIL_BANK_ISO20022_BASE_URL=… becomes { baseUrl: '…' } for the rail 'bank-iso20022'. */
function optionsFor(id: string, settings: Readonly<Record<string, string>>): Record<string, string> {
  const prefix = variablePrefix(id);
  return Object.fromEntries(Object.entries(settings).filter(([name]) => name.startsWith(prefix)).map(([name, value]) => [camelCase(name.slice(prefix.length)), value]));
}

function build(definition: RailDefinition<never>, options: Record<string, unknown>): RailAdapter {
  const parsed = (definition.optionsSchema as z.ZodType).safeParse(options);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const option = String(issue.path[0] ?? '');
      return `${variablePrefix(definition.id)}${option.replace(/[A-Z]/g, (letter) => `_${letter}`).toUpperCase()}: ${issue.message}`;
    });
    throw new ConfigError(`rail "${definition.id}" is misconfigured — ${problems.join('; ')}`);
  }
  return definition.create(parsed.data as never);
}

function matches(route: RailRoute, payment: RoutablePayment): boolean {
  const counterparty = counterpartyOf(payment);
  if (route.direction && route.direction !== directionOf(payment.kind)) return false;
  if (route.partyType && route.partyType !== counterparty.type) return false;
  if (route.currency && route.currency !== payment.currency) return false;
  if (route.institution) {
    const byInstitution = counterparty.institution === route.institution;
    const byPrefix = counterparty.type === 'msisdn' && counterparty.value.startsWith(route.institution);
    if (!byInstitution && !byPrefix) return false;
  }
  return true;
}

function serves(adapter: RailAdapter, payment: RoutablePayment): boolean {
  const capabilities = adapter.capabilities;
  return (
    capabilities.directions.includes(directionOf(payment.kind)) &&
    capabilities.partyTypes.includes(counterpartyOf(payment).type) &&
    (capabilities.currencies.includes('*') || capabilities.currencies.includes(payment.currency))
  );
}

function positiveInteger(id: string, option: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!Number.isInteger(number) || number <= 0) throw new ConfigError(`${variablePrefix(id)}${option}: must be a positive whole number`);
  return number;
}

/**
 * Builds the switched-on rails from configuration (each adapter validates its own options at boot) and the
 * routing table: RAIL_ROUTES when given, otherwise one catch-all route per rail in RAILS order. A route
 * only picks a rail that can actually carry the payment.
 */
export function createRailRegistry(
  config: Pick<Config, 'RAILS' | 'RAIL_ROUTES' | 'RAIL_TIMEOUT_MS' | 'RAIL_FAILOVER_DISBURSEMENTS' | 'railSettings'>,
  runtimeOptions: Record<string, Record<string, string>> = {},
  packagedRails: readonly RailDefinition<never>[] = [],
): RailRegistry {
  const definitions = [...RAIL_DEFINITIONS, ...packagedRails];
  const byId = new Map<string, RailAdapter>();
  const queue = new Map<string, RailQueueSettings>();
  for (const id of config.RAILS) {
    const definition = definitions.find((candidate) => candidate.id === id);
    if (!definition) throw new ConfigError(`RAILS: unknown rail "${id}"; known rails: ${definitions.map((d) => d.id).join(', ')} (add others with RAIL_PACKAGES)`);
    if (byId.has(id)) throw new ConfigError(`RAILS: rail "${id}" is listed twice`);
    const { concurrency, ratePerSecond, ...options }: Record<string, string | undefined> = { timeoutMs: String(config.RAIL_TIMEOUT_MS), ...runtimeOptions[id], ...optionsFor(id, config.railSettings) };
    queue.set(id, { concurrency: positiveInteger(id, 'CONCURRENCY', concurrency), ratePerSecond: positiveInteger(id, 'RATE_PER_SECOND', ratePerSecond) });
    byId.set(id, build(definition, options));
  }
  const routes: readonly RailRoute[] = config.RAIL_ROUTES ?? config.RAILS.map((rail) => ({ rail }));
  for (const route of routes) {
    for (const rail of [route.rail, route.fallback].filter((id): id is string => id !== undefined)) {
      if (!byId.has(rail)) throw new ConfigError(`RAIL_ROUTES: route to rail "${rail}", which is not in RAILS (${config.RAILS.join(', ')})`);
    }
  }

  return {
    get(id) {
      const adapter = byId.get(id);
      if (!adapter) throw new Error(`unknown rail "${id}"; rails switched on: ${[...byId.keys()].join(', ')}`);
      return adapter;
    },
    ids: () => [...byId.keys()],
    route(payment) {
      for (const route of routes) {
        const adapter = byId.get(route.rail)!;
        if (matches(route, payment) && serves(adapter, payment)) return adapter;
      }
      const counterparty = counterpartyOf(payment);
      throw new NoRailRoute(
        `no route carries a ${payment.kind} (${directionOf(payment.kind)}) ${payment.kind === 'benefit' ? 'to' : 'from'} a ${counterparty.type}` +
          `${counterparty.institution ? ` at ${counterparty.institution}` : ''} in ${payment.currency}`,
      );
    },
    queueSettings: (id) => queue.get(id) ?? { concurrency: undefined, ratePerSecond: undefined },
    failover(railId, payment) {
      if (directionOf(payment.kind) === 'disbursement' && !config.RAIL_FAILOVER_DISBURSEMENTS) return undefined;
      const route = routes.find((candidate) => candidate.rail === railId && candidate.fallback && matches(candidate, payment));
      const fallback = route?.fallback ? byId.get(route.fallback) : undefined;
      return fallback && serves(fallback, payment) ? fallback : undefined;
    },
    async close() {
      const results = await Promise.allSettled([...byId.values()].map((adapter) => adapter.close()));
      const failed = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
      if (failed) throw failed.reason;
    },
  };
}
