import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { NoRailRoute, type RailRegistry } from '../../adapters/registry.ts';
import type { Money } from '../domain/money.ts';
import type { Party } from '../domain/order.ts';
import { hashVoucherNumber, type MerchantKind, type VoucherStatus } from '../domain/voucher.ts';
import { appendAudit, type AuditEntry } from '../db/repositories/audit-log.ts';
import { findBillerByCode } from '../db/repositories/billers.ts';
import { findMerchantByCode, insertMerchant } from '../db/repositories/merchants.ts';
import { findProgramByCode } from '../db/repositories/programs.ts';
import { findVoucherGroupsByCode, insertVoucherGroup } from '../db/repositories/voucher-groups.ts';
import { existingSerialNumbers, findVouchersByNumberHashes, insertSeededVouchers } from '../db/repositories/vouchers.ts';
import type { Database } from '../db/knex.ts';
import { blockVoucherTotals } from './program-funds.ts';
import { merchantCredentialName } from './register-merchant.ts';
import { seedClient } from './seed-clients.ts';
import { SeedConflict, type SeedCounts } from './seed-outcome.ts';

type Actor = Omit<AuditEntry, 'action' | 'target' | 'organisationId' | 'detail'>;

export interface SeedVoucherGroup {
  readonly organisation: string;
  readonly code: string;
  readonly name: string;
  readonly program: string;
  readonly validitySeconds: number;
}

export interface SeedMerchant {
  readonly organisation: string;
  readonly code: string;
  readonly name: string;
  readonly kind: MerchantKind;
  readonly account: Party;
  readonly voucherGroups: readonly string[] | null;
  /** Its own credential (`vouchers:redeem`), with a fixed key or one Kassa issues; none when absent. */
  readonly credential: { readonly key?: string } | null;
  /** What its account holds on the rail: not part of the deployment's database, set on the rail by seedRailBalances. */
  readonly railBalance: Money | null;
  /** The code of the biller it stands for (seeded before it), when it takes that biller's bills paid with vouchers. */
  readonly biller: string | null;
}

/** Voucher groups are created once; one that exists must draw on the same program for as long. */
export async function seedVoucherGroups(trx: Database, organisationIds: ReadonlyMap<string, string>, groups: readonly SeedVoucherGroup[], actor: Actor, counts: SeedCounts): Promise<void> {
  for (const group of groups) {
    const organisationId = organisationIds.get(group.organisation)!;
    const existing = (await findVoucherGroupsByCode(trx, organisationId, [group.code])).get(group.code);
    if (existing) {
      if (existing.programCode !== group.program || existing.validitySeconds !== group.validitySeconds || existing.name !== group.name) {
        throw new SeedConflict(`voucher group ${group.code} of "${group.organisation}" exists already with another program, name or validity`);
      }
      counts.unchanged += 1;
      continue;
    }
    const program = await findProgramByCode(trx, organisationId, group.program);
    if (!program) throw new SeedConflict(`voucher group ${group.code}: "${group.organisation}" has no program ${group.program}`);
    const id = randomUUID();
    await insertVoucherGroup(trx, { id, organisationId, code: group.code, name: group.name, programId: program.id, validitySeconds: group.validitySeconds });
    await appendAudit(trx, { ...actor, organisationId, action: 'voucher_group.create', target: id, detail: { code: group.code, program: group.program, seeded: true } });
    counts.created += 1;
  }
}

/** Merchants and agents are registered once; one that exists must be paid at the same account for the same groups. */
export async function seedMerchants(
  trx: Database, organisationIds: ReadonlyMap<string, string>, merchants: readonly SeedMerchant[], actor: Actor,
  counts: { merchants: SeedCounts; clients: SeedCounts }, issuedKeys: { organisation: string; client: string; key: string }[],
): Promise<void> {
  for (const merchant of merchants) {
    const organisationId = organisationIds.get(merchant.organisation)!;
    const existing = await findMerchantByCode(trx, organisationId, merchant.code);
    const billerId = merchant.biller === null ? null : (await findBillerByCode(trx, merchant.biller))!.id;
    const credential = merchant.credential && await seedClient(trx, { organisationId, organisation: merchant.organisation }, { name: merchantCredentialName(merchant.code), scopes: ['vouchers:redeem'], key: merchant.credential.key }, actor);
    if (credential) {
      counts.clients[credential.result] += 1;
      if (credential.issuedKey) issuedKeys.push({ organisation: merchant.organisation, client: merchantCredentialName(merchant.code), key: credential.issuedKey });
    }
    if (existing) {
      const same = existing.name === merchant.name && existing.kind === merchant.kind && isDeepStrictEqual(existing.account, merchant.account)
        && isDeepStrictEqual(existing.voucherGroups && [...existing.voucherGroups].sort(), merchant.voucherGroups && [...merchant.voucherGroups].sort())
        && existing.apiClientId === (credential?.clientId ?? null) && existing.billerId === billerId;
      if (!same) throw new SeedConflict(`merchant ${merchant.code} of "${merchant.organisation}" is registered already with other details`);
      counts.merchants.unchanged += 1;
      continue;
    }
    if (merchant.voucherGroups) {
      const known = await findVoucherGroupsByCode(trx, organisationId, merchant.voucherGroups);
      const unknown = merchant.voucherGroups.filter((code) => !known.has(code));
      if (unknown.length > 0) throw new SeedConflict(`merchant ${merchant.code}: "${merchant.organisation}" has no voucher group ${unknown.join(', ')}`);
    }
    const id = randomUUID();
    await insertMerchant(trx, {
      id, organisationId, code: merchant.code, name: merchant.name, kind: merchant.kind, account: merchant.account,
      voucherGroups: merchant.voucherGroups && [...merchant.voucherGroups], apiClientId: credential?.clientId ?? null, billerId,
    });
    await appendAudit(trx, { ...actor, organisationId, action: 'merchant.register', target: id, detail: { code: merchant.code, kind: merchant.kind, biller: merchant.biller, seeded: true } });
    counts.merchants.created += 1;
  }
}

export interface RailBalanceOutcome {
  readonly organisation: string;
  readonly merchant: string;
  readonly balance: Money;
  /** Why the balance was not set; absent when it was. */
  readonly notSet?: string;
}

/** Sets balances on the one rail that takes them from Kassa (a simulator); other rails' accounts hold what their owners put there. */
export interface RailBalanceSetter {
  readonly rail: string;
  set(account: Party, balance: Money): Promise<void>;
}

/**
 * Gives each seeded merchant's and agent's account the balance the seed names, when the rail that pays it is the
 * setter's. A rail is no part of the database transaction, so this runs after it commits; each balance is set
 * outright, so running it again leaves the figure as it is. Every balance gets an outcome, set or not and why.
 */
export async function seedRailBalances(rails: Pick<RailRegistry, 'route'>, setter: RailBalanceSetter, merchants: readonly SeedMerchant[]): Promise<RailBalanceOutcome[]> {
  const outcomes: RailBalanceOutcome[] = [];
  for (const merchant of merchants) {
    if (!merchant.railBalance) continue;
    const outcome = { organisation: merchant.organisation, merchant: merchant.code, balance: merchant.railBalance };
    let rail: string;
    try {
      // Merchants and agents are paid (a redemption's payout, a cash-out), so their balance lives on the rail that pays them.
      rail = rails.route({ kind: 'benefit', payer: merchant.account, payee: merchant.account, currency: merchant.railBalance.currency }).id;
    } catch (error) {
      if (!(error instanceof NoRailRoute)) throw error;
      outcomes.push({ ...outcome, notSet: `no rail is routed to pay this account (${error.message})` });
      continue;
    }
    if (rail !== setter.rail) {
      outcomes.push({ ...outcome, notSet: `payments to this account go by rail "${rail}", whose balances Kassa cannot set; only the ${setter.rail} rail's simulator takes them` });
      continue;
    }
    try {
      await setter.set(merchant.account, merchant.railBalance);
      outcomes.push(outcome);
    } catch (error) {
      outcomes.push({ ...outcome, notSet: (error as Error).message });
    }
  }
  return outcomes;
}

export interface SeedVoucher {
  readonly organisation: string;
  readonly group: string;
  /** The voucher's number, its secret: only its keyed hash is stored. */
  readonly number: string;
  readonly amountMinor: bigint;
  readonly status: VoucherStatus;
  /** When absent, the group's validity from now. */
  readonly expiresAt: Date | null;
  /** When absent, the next of the sequence. */
  readonly serialNumber: bigint | null;
}

/** Statuses in which a voucher still holds its amount on the program's budget. */
const BLOCKING: readonly VoucherStatus[] = ['pre_activated', 'activated', 'suspended'];

/**
 * Vouchers in the status the seed gives them. One still usable (pre-activated, activated, suspended) blocks its
 * amount on its program's budget and in the ledger, as a pre-activation would, and the seed fails if the budget
 * does not cover it; one seeded redeemed, expired or cancelled is history from before the deployment and blocks
 * nothing. A voucher is known by its number: seeded again with the same group, amount and status, it is unchanged.
 */
export async function seedVouchers(trx: Database, organisationIds: ReadonlyMap<string, string>, vouchers: readonly SeedVoucher[], numberKey: string, counts: SeedCounts): Promise<void> {
  const byOrganisation = new Map<string, SeedVoucher[]>();
  for (const voucher of vouchers) {
    const own = byOrganisation.get(voucher.organisation) ?? [];
    own.push(voucher);
    byOrganisation.set(voucher.organisation, own);
  }
  for (const [organisation, own] of byOrganisation) {
    const organisationId = organisationIds.get(organisation)!;
    const groups = await findVoucherGroupsByCode(trx, organisationId, [...new Set(own.map((voucher) => voucher.group))]);
    const hashed = own.map((voucher) => {
      const group = groups.get(voucher.group);
      if (!group) throw new SeedConflict(`"${organisation}" has no voucher group ${voucher.group}`);
      return { voucher, group, numberHash: hashVoucherNumber(voucher.number, numberKey) };
    });
    const existing = await findVouchersByNumberHashes(trx, organisationId, hashed.map((entry) => entry.numberHash));
    const fresh = hashed.filter((entry) => {
      const found = existing.get(entry.numberHash);
      if (!found) return true;
      if (found.groupId !== entry.group.id || found.amountMinor !== entry.voucher.amountMinor || found.status !== entry.voucher.status
        || (entry.voucher.serialNumber !== null && found.serialNumber !== entry.voucher.serialNumber)) {
        throw new SeedConflict(`a voucher of "${organisation}" with the number given for one of group ${entry.voucher.group} exists already with another group, amount, status or serial number`);
      }
      return false;
    });
    const taken = await existingSerialNumbers(trx, fresh.flatMap((entry) => (entry.voucher.serialNumber === null ? [] : [entry.voucher.serialNumber])));
    if (taken.length > 0) throw new SeedConflict(`serial number ${taken.join(', ')} belongs to another voucher already`);
    const short = await blockVoucherTotals(trx, fresh.filter((entry) => BLOCKING.includes(entry.voucher.status)).map((entry) => ({ group: entry.group, amountMinor: entry.voucher.amountMinor })));
    if (short) throw new SeedConflict(`the budget left of program ${short.group.programCode} of "${organisation}" does not cover the usable vouchers seeded on it`);
    await insertSeededVouchers(trx, organisationId, fresh.map(({ voucher, group, numberHash }) => ({
      numberHash, groupId: group.id, amountMinor: voucher.amountMinor, currency: group.currency, status: voucher.status,
      expiresAt: voucher.expiresAt ?? new Date(Date.now() + group.validitySeconds * 1000), serialNumber: voucher.serialNumber,
    })));
    counts.created += fresh.length;
    counts.unchanged += own.length - fresh.length;
  }
}
