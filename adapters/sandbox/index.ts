/**
 * The sandbox rail as the registry lists it. Options come from the environment (RAIL_SANDBOX_<OPTION>):
 * - RAIL_SANDBOX_BASE_URL → baseUrl: where the simulator (./simulator.ts) or a remote sandbox listens;
 * - RAIL_SANDBOX_TIMEOUT_MS → timeoutMs: per request, default 10000;
 * - RAIL_SANDBOX_CALLBACK_SECRET → callbackSecret: the secret the rail signs callbacks with, default
 *   'sandbox-callback-secret' (SANDBOX_DEFAULT_CALLBACK_SECRET), which is also what a simulator started
 *   without `callbackSecret` uses: fine on loopback, never anywhere else. To share a secret of your own,
 *   start the simulator with `startSandboxSimulator({ callbackSecret })` and configure the same here (or
 *   pass `simulator.callbackSecret`).
 */
import type { RailDefinition } from '../contract.ts';
import { SandboxRailAdapter, SandboxRailOptionsSchema, type SandboxRailOptions } from './adapter.ts';

export const sandboxRail: RailDefinition<SandboxRailOptions> = {
  id: 'sandbox',
  optionsSchema: SandboxRailOptionsSchema,
  create: (options) => new SandboxRailAdapter(options),
};

export {
  SANDBOX_CALLBACK_TOLERANCE_SECONDS,
  SANDBOX_DEFAULT_TIMEOUT_MS,
  SandboxRailAdapter,
  SandboxRailOptionsSchema,
  type SandboxRailAdapterOptions,
  type SandboxRailOptions,
} from './adapter.ts';
export { SANDBOX_DEFAULT_CALLBACK_SECRET } from './defaults.ts';
