/**
 * The callback secret the sandbox rail and its adapter share when nothing else is configured
 * (`RAIL_SANDBOX_CALLBACK_SECRET` unset). Fine for a local run on loopback; anywhere else, configure
 * a secret of your own on both sides: `startSandboxSimulator({ callbackSecret })` and the adapter's
 * `callbackSecret` option.
 */
export const SANDBOX_DEFAULT_CALLBACK_SECRET = 'sandbox-callback-secret';
