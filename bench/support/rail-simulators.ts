import { BANK_SIMULATOR_TREASURY, startBankSimulator, type BankSimulator } from '../../adapters/bank-iso20022/simulator.ts';
import { startGsmaSimulator, type GsmaSimulator } from '../../adapters/gsma-mobile-money/simulator.ts';
import type { GsmaParty } from '../../adapters/gsma-mobile-money/wire.ts';

/** The bank and the mobile-money operator, both in the bench process, and the settings that point Kassa at them. */
export interface RailSimulators {
  readonly bank: BankSimulator;
  readonly operator: GsmaSimulator;
  close(): Promise<void>;
}

export const BANK_RAIL = 'bank-iso20022';
export const MOBILE_RAIL = 'gsma-mobile-money';
export const MOBILE_CURRENCY = 'KES';

export async function startRailSimulators(): Promise<RailSimulators> {
  const bank = await startBankSimulator();
  try {
    const operator = await startGsmaSimulator();
    return { bank, operator, close: async () => void (await Promise.all([bank.close(), operator.close()])) };
  } catch (error) {
    await bank.close();
    throw error;
  }
}

/** RAILS, RAIL_ROUTES and each rail's options: IBANs go to the bank, mobile numbers to the operator. */
export function railEnv(simulators: RailSimulators): Record<string, string> {
  return {
    RAILS: `${BANK_RAIL},${MOBILE_RAIL},sandbox`,
    RAIL_ROUTES: JSON.stringify([
      { rail: BANK_RAIL, partyType: 'iban' },
      { rail: MOBILE_RAIL, partyType: 'msisdn' },
    ]),
    ...bankOptions(simulators.bank),
    ...operatorOptions(simulators.operator),
  };
}

function bankOptions(bank: BankSimulator): Record<string, string> {
  return {
    RAIL_BANK_ISO20022_BASE_URL: bank.url,
    RAIL_BANK_ISO20022_DEBTOR_NAME: BANK_SIMULATOR_TREASURY.name,
    RAIL_BANK_ISO20022_DEBTOR_IBAN: BANK_SIMULATOR_TREASURY.iban,
    RAIL_BANK_ISO20022_DEBTOR_BIC: BANK_SIMULATOR_TREASURY.bic,
    RAIL_BANK_ISO20022_CALLBACK_SECRET: bank.callbackSecret,
  };
}

function operatorOptions(operator: GsmaSimulator): Record<string, string> {
  return {
    RAIL_GSMA_MOBILE_MONEY_BASE_URL: operator.url,
    RAIL_GSMA_MOBILE_MONEY_CLIENT_ID: operator.clientId,
    RAIL_GSMA_MOBILE_MONEY_CLIENT_SECRET: operator.clientSecret,
    RAIL_GSMA_MOBILE_MONEY_CALLBACK_SECRET: operator.callbackSecret,
    RAIL_GSMA_MOBILE_MONEY_DISBURSEMENT_ACCOUNT: account(operator.disbursementAccount),
    RAIL_GSMA_MOBILE_MONEY_COLLECTION_ACCOUNT: account(operator.collectionAccount),
    RAIL_GSMA_MOBILE_MONEY_CURRENCIES: MOBILE_CURRENCY,
  };
}

const account = (party: GsmaParty) => `${party.key}:${party.value}`;
