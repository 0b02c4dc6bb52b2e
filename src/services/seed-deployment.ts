import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import type { BeneficiaryAccount } from '../domain/beneficiary.ts';
import { ensureOrganisation, findOrganisationId } from '../db/repositories/api-clients.ts';
import { appendAudit, type AuditEntry } from '../db/repositories/audit-log.ts';
import { changeBeneficiaries, findBeneficiaries, insertBeneficiaries } from '../db/repositories/beneficiaries.ts';
import { clearDefaultProgram, findProgramByCode, insertProgram, updateProgramTerms, type Program } from '../db/repositories/programs.ts';
import type { Database } from '../db/knex.ts';
import type { ProgramRequest } from './create-program.ts';
import { seedBillers, seedPayerInstitutions, type SeedBiller, type SeedPayerInstitution } from './seed-bill-parties.ts';
import { seedClient, type SeedClient } from './seed-clients.ts';
import { SeedConflict, type SeedCounts } from './seed-outcome.ts';
import { seedMerchants, seedVoucherGroups, seedVouchers, type SeedMerchant, type SeedVoucher, type SeedVoucherGroup } from './seed-voucher-parties.ts';

/** Reference data for a deployment, already checked for shape: organisations are named, never given ids. */
export interface Seed {
  readonly organisations: readonly { name: string; clients: readonly SeedClient[] }[];
  readonly programs: readonly SeedProgram[];
  readonly beneficiaries: readonly { organisation: string; registeringInstitution: string; account: BeneficiaryAccount }[];
  readonly billers: readonly SeedBiller[];
  readonly payerInstitutions: readonly SeedPayerInstitution[];
  readonly voucherGroups: readonly SeedVoucherGroup[];
  readonly merchants: readonly SeedMerchant[];
  readonly vouchers: readonly SeedVoucher[];
}

export interface SeedProgram extends ProgramRequest {
  readonly organisation: string;
}

export interface SeedOutcome {
  readonly counts: Readonly<Record<'organisations' | 'clients' | 'programs' | 'beneficiaries' | 'billers' | 'bills' | 'payer_institutions' | 'voucher_groups' | 'merchants' | 'vouchers', SeedCounts>>;
  /** Keys Kassa generated for credentials the file named without one: shown once, only their hashes are kept. */
  readonly issuedKeys: readonly { organisation: string; client: string; key: string }[];
}

type Actor = Omit<AuditEntry, 'action' | 'target' | 'organisationId' | 'detail'>;

/**
 * Brings a deployment to what the seed describes, in one transaction: whatever already matches stays as it is,
 * what differs is updated, what is missing is created, and a contradiction rolls all of it back. Running the
 * same file twice changes nothing the second time. `voucherNumberKey` keys the hashes of seeded voucher numbers,
 * as the deployment's own pre-activations are keyed.
 */
export async function seedDeployment(db: Database, seed: Seed, actor: Actor, voucherNumberKey: string): Promise<SeedOutcome> {
  return db.transaction(async (trx) => {
    const counts = { organisations: zero(), clients: zero(), programs: zero(), beneficiaries: zero(), billers: zero(), bills: zero(), payer_institutions: zero(), voucher_groups: zero(), merchants: zero(), vouchers: zero() };
    const issuedKeys: { organisation: string; client: string; key: string }[] = [];
    const organisationIds = new Map<string, string>();
    for (const organisation of seed.organisations) {
      const existing = await findOrganisationId(trx, organisation.name);
      organisationIds.set(organisation.name, existing ?? (await ensureOrganisation(trx, organisation.name)));
      counts.organisations[existing ? 'unchanged' : 'created'] += 1;
      for (const client of organisation.clients) {
        const organisationId = organisationIds.get(organisation.name)!;
        const outcome = await seedClient(trx, { organisationId, organisation: organisation.name }, client, actor);
        counts.clients[outcome.result] += 1;
        if (outcome.issuedKey) issuedKeys.push({ organisation: organisation.name, client: client.name, key: outcome.issuedKey });
      }
    }
    for (const program of seed.programs) {
      counts.programs[await seedProgram(trx, organisationIds.get(program.organisation)!, program, actor)] += 1;
    }
    await seedBeneficiaries(trx, organisationIds, seed.beneficiaries, counts.beneficiaries);
    await seedBillers(trx, organisationIds, seed.billers, actor, counts);
    await seedPayerInstitutions(trx, organisationIds, seed.payerInstitutions, actor, counts.payer_institutions);
    await seedVoucherGroups(trx, organisationIds, seed.voucherGroups, actor, counts.voucher_groups);
    await seedMerchants(trx, organisationIds, seed.merchants, actor, counts, issuedKeys);
    await seedVouchers(trx, organisationIds, seed.vouchers, voucherNumberKey, counts.vouchers);
    return { counts, issuedKeys };
  });
}

function zero(): SeedCounts {
  return { created: 0, updated: 0, unchanged: 0 };
}

async function seedProgram(trx: Database, organisationId: string, program: SeedProgram, actor: Actor): Promise<keyof SeedCounts> {
  const existing = await findProgramByCode(trx, organisationId, program.code);
  if (existing && existing.currency !== program.currency) {
    throw new SeedConflict(`program ${program.code} of "${program.organisation}" is in ${existing.currency}; a program's currency never changes`);
  }
  if (existing && sameTerms(existing, program)) return 'unchanged';
  if (program.isDefault && !existing?.isDefault) await clearDefaultProgram(trx, organisationId);
  const detail = { code: program.code, budget_minor: program.budgetMinor.toString(), approval_threshold_minor: program.approvalThresholdMinor.toString(), seeded: true };
  if (!existing) {
    const id = randomUUID();
    await insertProgram(trx, { id, organisationId, code: program.code, name: program.name, currency: program.currency, fundingAccount: program.fundingAccount, budgetMinor: program.budgetMinor, approvalThresholdMinor: program.approvalThresholdMinor, isDefault: program.isDefault });
    await appendAudit(trx, { ...actor, organisationId, action: 'program.create', target: id, detail });
    return 'created';
  }
  const committed = existing.reservedMinor + existing.disbursedMinor;
  if (program.budgetMinor < committed) {
    throw new SeedConflict(`program ${program.code} of "${program.organisation}" has ${committed} minor units blocked or spent; its budget cannot fall to ${program.budgetMinor}`);
  }
  await updateProgramTerms(trx, existing.id, program);
  await appendAudit(trx, { ...actor, organisationId, action: 'program.update', target: existing.id, detail });
  return 'updated';
}

function sameTerms(existing: Program, program: SeedProgram): boolean {
  return existing.name === program.name && existing.budgetMinor === program.budgetMinor && existing.approvalThresholdMinor === program.approvalThresholdMinor
    && existing.isDefault === program.isDefault && isDeepStrictEqual(existing.fundingAccount, program.fundingAccount);
}

async function seedBeneficiaries(trx: Database, organisationIds: ReadonlyMap<string, string>, entries: Seed['beneficiaries'], counts: SeedCounts): Promise<void> {
  const registers = new Map<string, { organisationId: string; registeringInstitution: string; accounts: BeneficiaryAccount[] }>();
  for (const entry of entries) {
    const organisationId = organisationIds.get(entry.organisation)!;
    const key = `${organisationId} ${entry.registeringInstitution}`;
    const register = registers.get(key) ?? { organisationId, registeringInstitution: entry.registeringInstitution, accounts: [] };
    register.accounts.push(entry.account);
    registers.set(key, register);
  }
  for (const { organisationId, registeringInstitution, accounts } of registers.values()) {
    const current = await findBeneficiaries(trx, organisationId, registeringInstitution, accounts.map((account) => account.functionalId));
    const changed = accounts.filter((account) => {
      const stored = current.get(account.functionalId);
      return stored && (stored.modality !== account.modality || stored.financialAddress !== account.financialAddress || stored.institutionCode !== account.institutionCode);
    });
    const { inserted } = await insertBeneficiaries(trx, organisationId, registeringInstitution, accounts.filter((account) => !current.has(account.functionalId)));
    await changeBeneficiaries(trx, organisationId, registeringInstitution, changed);
    counts.created += inserted.size;
    counts.updated += changed.length;
    counts.unchanged += accounts.length - inserted.size - changed.length;
  }
}
