import { ConfigError } from '../src/config/index.ts';
import type { RailDefinition } from './contract.ts';

function isRailDefinition(value: unknown): value is RailDefinition<never> {
  const candidate = value as Partial<RailDefinition<never>> | undefined;
  return typeof candidate?.id === 'string' && typeof candidate.create === 'function' && typeof (candidate.optionsSchema as { safeParse?: unknown } | undefined)?.safeParse === 'function';
}

/**
 * Loads rails published as their own npm packages and named in RAIL_PACKAGES. Each package exports its
 * RailDefinition as `rail` (or as its default export); nothing is discovered that configuration does not name.
 */
export async function loadRailPackages(packageNames: readonly string[]): Promise<RailDefinition<never>[]> {
  const definitions: RailDefinition<never>[] = [];
  for (const name of packageNames) {
    let module: { rail?: unknown; default?: unknown };
    try {
      module = (await import(name)) as typeof module;
    } catch (error) {
      throw new ConfigError(`RAIL_PACKAGES: cannot load "${name}" (${(error as Error).message}); install it next to Kassa`);
    }
    const definition = module.rail ?? module.default;
    if (!isRailDefinition(definition)) throw new ConfigError(`RAIL_PACKAGES: "${name}" exports no rail definition (expected \`export const rail: RailDefinition\`)`);
    definitions.push(definition);
  }
  return definitions;
}
