import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import type { Party } from '../domain/order.ts';
import { appendAudit, type AuditEntry } from '../db/repositories/audit-log.ts';
import { claimBillerPrefixes, findBillerByCode, insertBiller } from '../db/repositories/billers.ts';
import { findHostedBills, putHostedBills, type HostedBill } from '../db/repositories/hosted-bills.ts';
import { findPayerInstitutionByCode, insertPayerInstitution } from '../db/repositories/payer-institutions.ts';
import type { Database } from '../db/knex.ts';
import { SeedConflict, type SeedCounts } from './seed-outcome.ts';

type Actor = Omit<AuditEntry, 'action' | 'target' | 'organisationId' | 'detail'>;

export interface SeedBiller {
  readonly organisation: string;
  readonly code: string;
  readonly name: string;
  readonly currency: string;
  readonly account: Party;
  readonly prefixes: readonly string[];
  /** Null: Kassa holds the biller's register, and `bills` is loaded into it. */
  readonly billSourceUrl: string | null;
  readonly bills: readonly HostedBill[];
}

export interface SeedPayerInstitution {
  readonly organisation: string;
  readonly code: string;
  readonly name: string;
  readonly settlementAccount: Party;
  readonly rtpUrl: string | null;
}

/**
 * Billers are registered once: one that exists must say what the file says (codes are the deployment's namespace),
 * since changing where a biller is paid is not reference data. The bills of a register are written as the file
 * gives them: a bill already in it with other amounts is updated.
 */
export async function seedBillers(trx: Database, organisationIds: ReadonlyMap<string, string>, billers: readonly SeedBiller[], actor: Actor, counts: { billers: SeedCounts; bills: SeedCounts }): Promise<void> {
  for (const biller of billers) {
    const organisationId = organisationIds.get(biller.organisation)!;
    const existing = await findBillerByCode(trx, biller.code);
    if (existing) {
      const same = existing.organisationId === organisationId && existing.name === biller.name && existing.currency === biller.currency
        && isDeepStrictEqual(existing.account, biller.account) && existing.billSourceUrl === biller.billSourceUrl
        && isDeepStrictEqual([...existing.prefixes].sort(), [...biller.prefixes].sort());
      if (!same) throw new SeedConflict(`biller ${biller.code} is registered already with other details (organisation, name, currency, account, bill source or prefixes)`);
      counts.billers.unchanged += 1;
    } else {
      const id = randomUUID();
      await insertBiller(trx, { id, organisationId, code: biller.code, name: biller.name, currency: biller.currency, account: biller.account, billSourceUrl: biller.billSourceUrl });
      const taken = await claimBillerPrefixes(trx, id, biller.prefixes);
      if (taken.length > 0) throw new SeedConflict(`biller ${biller.code}: another biller's bill IDs start with ${taken.join(', ')}`);
      await appendAudit(trx, { ...actor, organisationId, action: 'biller.register', target: id, detail: { code: biller.code, prefixes: biller.prefixes, hosted_register: biller.billSourceUrl === null, seeded: true } });
      counts.billers.created += 1;
    }
    await seedBills(trx, (existing ?? (await findBillerByCode(trx, biller.code)))!.id, biller.bills, counts.bills);
  }
}

async function seedBills(trx: Database, billerId: string, bills: readonly HostedBill[], counts: SeedCounts): Promise<void> {
  const current = await findHostedBills(trx, billerId, bills.map((bill) => bill.billId));
  const changed = bills.filter((bill) => !current.has(bill.billId) || !isDeepStrictEqual(current.get(bill.billId), bill));
  await putHostedBills(trx, billerId, changed);
  for (const bill of bills) {
    if (!current.has(bill.billId)) counts.created += 1;
    else if (changed.includes(bill)) counts.updated += 1;
    else counts.unchanged += 1;
  }
}

export async function seedPayerInstitutions(trx: Database, organisationIds: ReadonlyMap<string, string>, institutions: readonly SeedPayerInstitution[], actor: Actor, counts: SeedCounts): Promise<void> {
  for (const institution of institutions) {
    const organisationId = organisationIds.get(institution.organisation)!;
    const existing = await findPayerInstitutionByCode(trx, institution.code);
    if (existing) {
      const same = existing.organisationId === organisationId && existing.name === institution.name
        && isDeepStrictEqual(existing.settlementAccount, institution.settlementAccount) && existing.rtpUrl === institution.rtpUrl;
      if (!same) throw new SeedConflict(`payer institution ${institution.code} is registered already with other details`);
      counts.unchanged += 1;
      continue;
    }
    const id = randomUUID();
    await insertPayerInstitution(trx, { id, organisationId, code: institution.code, name: institution.name, settlementAccount: institution.settlementAccount, rtpUrl: institution.rtpUrl });
    await appendAudit(trx, { ...actor, organisationId, action: 'payer_institution.register', target: id, detail: { code: institution.code, seeded: true } });
    counts.created += 1;
  }
}
