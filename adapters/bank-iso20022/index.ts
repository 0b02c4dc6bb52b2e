import type { RailDefinition } from '../contract.ts';
import { BankIso20022Adapter, BANK_ISO20022_RAIL_ID } from './adapter.ts';
import { BankOptionsSchema, type BankOptions } from './options.ts';

/**
 * The ISO 20022 bank rail as the registry lists it. Options come from RAIL_BANK_ISO20022_<OPTION>
 * (see ./options.ts): BASE_URL, DEBTOR_NAME, DEBTOR_IBAN and DEBTOR_BIC are required; TIMEOUT_MS
 * (10000), INITIATING_PARTY_NAME (the debtor name), CALLBACK_SECRET (a local-only default) and
 * STATEMENT_FORMAT (camt053) are optional. The local bank is ./simulator.ts (startBankSimulator).
 */
export const bankIso20022Rail: RailDefinition<BankOptions> = {
  id: BANK_ISO20022_RAIL_ID,
  optionsSchema: BankOptionsSchema,
  create: (options) => new BankIso20022Adapter(options),
};

export { BankIso20022Adapter, BANK_ISO20022_RAIL_ID, BANK_MAX_CHUNK_SIZE } from './adapter.ts';
export { BankOptionsSchema, type BankOptions, type BankOptionsInput } from './options.ts';
export { BANK_SIGNATURE_HEADER, DEFAULT_BANK_CALLBACK_SECRET, signBankPush, checkBankSignature } from './signature.ts';
export { buildPain001, parsePain001 } from './pain001.ts';
export { parsePain002 } from './pain002.ts';
export { parseCamt053, parseCamt054, statementEntries } from './camt.ts';
export { parseMt940, statementEntriesFromMt940 } from './mt940.ts';
export { Iso20022FormatError } from './xml.ts';
export { Mt940FormatError } from './mt940.ts';
