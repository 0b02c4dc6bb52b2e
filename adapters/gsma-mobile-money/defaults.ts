/**
 * Credentials and accounts a local GSMA simulator uses when started without its own, so that a local
 * `kassa start` works out of the box. Fine on loopback, never anywhere else: against a real operator,
 * configure the values the operator issued (RAIL_GSMA_MOBILE_MONEY_CLIENT_ID, …).
 */
export const GSMA_SIMULATOR_DEFAULTS = Object.freeze({
  clientId: 'kassa-local',
  clientSecret: 'kassa-local-client-secret',
  callbackSecret: 'gsma-simulator-callback-secret',
  disbursementAccount: 'walletid:GOV-DISBURSEMENTS',
  collectionAccount: 'walletid:GOV-FEES',
});
