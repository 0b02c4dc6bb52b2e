import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { accountToRegister } from '../domain/beneficiary.ts';
import { parseMoney } from '../domain/money.ts';
import { SCOPES } from '../domain/scopes.ts';
import { isVoucherNumber, MERCHANT_KINDS, VOUCHER_STATUSES } from '../domain/voucher.ts';
import { partySchema } from '../http/schemas.ts';
import type { Seed } from '../services/seed-deployment.ts';

/** What is wrong with a seed file, every problem at once and each with its place in the file. */
export class SeedFileError extends Error {
  constructor(readonly file: string, readonly problems: readonly string[]) {
    super(`${file}: nothing was loaded; ${problems.length} problem(s)\n${problems.map((problem) => `  ${problem}`).join('\n')}`);
    this.name = 'SeedFileError';
  }
}

const name = z.string().trim().min(1).max(140);
const decimal = z.string().regex(/^(0|[1-9]\d{0,17})(\.\d+)?$/, 'must be a decimal string in major units, such as "1000000.00"');
// YAML reads an unquoted 01 as the number 1; a modality is a two-digit code either way.
const modality = z.union([z.string(), z.number().int().min(0).max(99)]).transform((value) => (typeof value === 'number' ? String(value).padStart(2, '0') : value));

const clientSchema = z.strictObject({
  name,
  scopes: z.array(z.enum(SCOPES)).min(1),
  /** A fixed key lets a conformance or training environment be rebuilt with the credentials its scripts hold. */
  key: z.string().regex(/^kassa_[A-Za-z0-9_-]{32,}$/, 'must be "kassa_" followed by at least 32 letters, digits, "-" or "_"').optional(),
});

const programSchema = z.strictObject({
  organisation: name,
  code: z.string().regex(/^[A-Za-z0-9_.-]{1,20}$/, 'must be 1–20 letters, digits, dots, dashes or underscores'),
  name,
  currency: z.string(),
  funding_account: partySchema,
  budget: decimal,
  approval_threshold: decimal.default('0'),
  default: z.boolean().default(false),
});

const beneficiarySchema = z.strictObject({
  organisation: name,
  registering_institution: z.string().trim().min(1).max(64),
  functional_id: z.string().trim().min(1).max(64),
  modality,
  financial_address: z.string().trim().min(1).max(128),
  institution: z.string().trim().min(1).max(64).optional(),
});

const code = z.string().regex(/^[A-Za-z0-9_.-]{1,20}$/, 'must be 1–20 letters, digits, dots, dashes or underscores');
const httpUrl = z.url({ protocol: /^https?$/ }).max(2048);
const date = z.iso.date();

const billSchema = z.strictObject({
  bill_id: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'must be 1–64 letters, digits, dots, dashes or underscores'),
  amount: decimal,
  amount_after_due: decimal.optional(),
  due: date.optional(),
  description: z.string().trim().min(1).max(140).optional(),
});

const billerSchema = z.strictObject({
  organisation: name,
  code,
  name,
  currency: z.string(),
  account: partySchema,
  prefixes: z.array(code).min(1),
  /** Without it Kassa holds the biller's register, and answers bill inquiries from `bills`. */
  bill_source_url: httpUrl.optional(),
  bills: z.array(billSchema).default([]),
});

const payerInstitutionSchema = z.strictObject({
  organisation: name,
  code,
  name,
  settlement_account: partySchema,
  rtp_url: httpUrl.optional(),
});

const voucherGroupSchema = z.strictObject({
  organisation: name,
  code,
  name,
  program: code,
  validity_days: z.number().int().min(1).max(3660),
});

const merchantSchema = z.strictObject({
  organisation: name,
  code: z.string().regex(/^[A-Za-z0-9_.-]{1,10}$/, 'must be 1–10 letters, digits, dots, dashes or underscores (GovStack\'s agentID)'),
  name,
  kind: z.enum(MERCHANT_KINDS),
  account: partySchema,
  /** The voucher groups it may redeem; every group when absent. */
  voucher_groups: z.array(code).min(1).optional(),
  /** Its own credential: `true` for one Kassa issues, or `{ key }` for a fixed one. */
  credential: z.union([z.literal(true), z.strictObject({ key: clientSchema.shape.key.unwrap() })]).optional(),
  /** The balance its account holds on the sandbox rail; set on the simulator after the database part is applied. */
  rail_balance: z.strictObject({ amount: decimal, currency: z.string() }).optional(),
  /** The biller it stands for: bills of that biller paid with the organisation's vouchers pay out to it. */
  biller: code.optional(),
});

const voucherSchema = z.strictObject({
  organisation: name,
  group: code,
  number: z.string().refine(isVoucherNumber, 'must be a voucher number: 16 digits, the first 1 to 8'),
  amount: decimal,
  status: z.enum(VOUCHER_STATUSES),
  expires: date.optional(),
  /** A fixed serial number (ten digits), for an environment whose scripts name vouchers by it; else the next one. */
  serial_number: z.string().regex(/^[1-9]\d{9}$/, 'must be a serial number: ten digits, the first not 0').optional(),
});

const seedFileSchema = z.strictObject({
  organisations: z.array(z.strictObject({ name, clients: z.array(clientSchema).default([]) })).default([]),
  programs: z.array(programSchema).default([]),
  beneficiaries: z.array(beneficiarySchema).default([]),
  billers: z.array(billerSchema).default([]),
  payer_institutions: z.array(payerInstitutionSchema).default([]),
  voucher_groups: z.array(voucherGroupSchema).default([]),
  merchants: z.array(merchantSchema).default([]),
  vouchers: z.array(voucherSchema).default([]),
});

type SeedFile = z.infer<typeof seedFileSchema>;

/** Reads a seed file (YAML, or JSON, which YAML includes) and checks all of it before anything is written. */
export async function readSeedFile(file: string): Promise<Seed> {
  let document: unknown;
  try {
    document = parseYaml(await readFile(file, 'utf8'), { intAsBigInt: false, uniqueKeys: true });
  } catch (error) {
    throw new SeedFileError(file, [(error as Error).message.split('\n')[0]!]);
  }
  const parsed = seedFileSchema.safeParse(document ?? {});
  if (!parsed.success) throw new SeedFileError(file, parsed.error.issues.map((issue) => `${placeOf(issue.path)}: ${issue.message}`));
  const problems: string[] = [];
  const seed = toSeed(parsed.data, problems);
  if (problems.length > 0) throw new SeedFileError(file, problems);
  return seed;
}

function toSeed(file: SeedFile, problems: string[]): Seed {
  const declared = new Set(file.organisations.map((organisation) => organisation.name));
  const mustBeDeclared = (place: string, organisation: string) => {
    if (!declared.has(organisation)) problems.push(`${place}.organisation: "${organisation}" is not among the file's organisations`);
  };
  reportRepeats(problems, 'organisations', file.organisations.map((organisation) => organisation.name));
  file.organisations.forEach((organisation, index) => reportRepeats(problems, `organisations[${index}].clients`, organisation.clients.map((client) => client.name)));
  reportRepeats(problems, 'programs', file.programs.map((program) => `${program.organisation} ${program.code}`));
  reportRepeats(problems, 'beneficiaries', file.beneficiaries.map((entry) => `${entry.organisation} ${entry.registering_institution} ${entry.functional_id}`));

  const programs = file.programs.map((program, index) => {
    const place = `programs[${index}]`;
    mustBeDeclared(place, program.organisation);
    const budget = amountIn(problems, `${place}.budget`, program.budget, program.currency);
    const threshold = amountIn(problems, `${place}.approval_threshold`, program.approval_threshold, program.currency);
    return {
      organisation: program.organisation, code: program.code, name: program.name, currency: program.currency, fundingAccount: program.funding_account,
      budgetMinor: budget, approvalThresholdMinor: threshold, isDefault: program.default,
    };
  });
  const defaults = programs.filter((program) => program.isDefault).map((program) => program.organisation);
  reportRepeats(problems, 'programs (default: true)', defaults);

  const beneficiaries = file.beneficiaries.map((entry, index) => {
    const place = `beneficiaries[${index}]`;
    mustBeDeclared(place, entry.organisation);
    const checked = accountToRegister({ functionalId: entry.functional_id, modality: entry.modality, financialAddress: entry.financial_address, institutionCode: entry.institution });
    if ('problem' in checked) problems.push(`${place}: ${checked.problem}`);
    return { organisation: entry.organisation, registeringInstitution: entry.registering_institution, account: 'account' in checked ? checked.account : undefined };
  });

  reportRepeats(problems, 'billers', file.billers.map((biller) => biller.code));
  reportRepeats(problems, 'billers (prefixes)', file.billers.flatMap((biller) => biller.prefixes));
  reportRepeats(problems, 'payer_institutions', file.payer_institutions.map((institution) => institution.code));
  const billers = file.billers.map((biller, index) => {
    const place = `billers[${index}]`;
    mustBeDeclared(place, biller.organisation);
    if (biller.bill_source_url !== undefined && biller.bills.length > 0) problems.push(`${place}.bills: a biller with a bill source URL keeps its own bills; give one or the other`);
    reportRepeats(problems, `${place}.bills`, biller.bills.map((bill) => bill.bill_id));
    const bills = biller.bills.map((bill, billIndex) => {
      const billPlace = `${place}.bills[${billIndex}]`;
      if (!biller.prefixes.some((prefix) => bill.bill_id.startsWith(prefix))) problems.push(`${billPlace}.bill_id: "${bill.bill_id}" starts with none of the biller's prefixes`);
      return {
        billId: bill.bill_id, currency: biller.currency, description: bill.description ?? null,
        amountOnDueMinor: amountIn(problems, `${billPlace}.amount`, bill.amount, biller.currency, { zero: false }),
        amountAfterDueMinor: bill.amount_after_due === undefined ? null : amountIn(problems, `${billPlace}.amount_after_due`, bill.amount_after_due, biller.currency, { zero: false }),
        // Due through the whole of its due date, in UTC.
        dueAt: bill.due === undefined ? null : new Date(`${bill.due}T23:59:59Z`),
      };
    });
    return { organisation: biller.organisation, code: biller.code, name: biller.name, currency: biller.currency, account: biller.account, prefixes: biller.prefixes, billSourceUrl: biller.bill_source_url ?? null, bills };
  });
  const payerInstitutions = file.payer_institutions.map((institution, index) => {
    mustBeDeclared(`payer_institutions[${index}]`, institution.organisation);
    return { organisation: institution.organisation, code: institution.code, name: institution.name, settlementAccount: institution.settlement_account, rtpUrl: institution.rtp_url ?? null };
  });

  reportRepeats(problems, 'voucher_groups', file.voucher_groups.map((group) => `${group.organisation} ${group.code}`));
  reportRepeats(problems, 'merchants', file.merchants.map((merchant) => `${merchant.organisation} ${merchant.code}`));
  const voucherGroups = file.voucher_groups.map((group, index) => {
    const place = `voucher_groups[${index}]`;
    mustBeDeclared(place, group.organisation);
    if (!file.programs.some((program) => program.organisation === group.organisation && program.code === group.program)) {
      problems.push(`${place}.program: "${group.organisation}" has no program ${group.program} in the file`);
    }
    return { organisation: group.organisation, code: group.code, name: group.name, program: group.program, validitySeconds: group.validity_days * 86_400 };
  });
  const merchants = file.merchants.map((merchant, index) => {
    const place = `merchants[${index}]`;
    mustBeDeclared(place, merchant.organisation);
    for (const group of merchant.voucher_groups ?? []) {
      if (!file.voucher_groups.some((declared) => declared.organisation === merchant.organisation && declared.code === group)) problems.push(`${place}.voucher_groups: "${merchant.organisation}" has no voucher group ${group} in the file`);
    }
    if (merchant.biller !== undefined && !file.billers.some((biller) => biller.code === merchant.biller)) problems.push(`${place}.biller: there is no biller ${merchant.biller} in the file`);
    const railBalance = merchant.rail_balance && { minor: amountIn(problems, `${place}.rail_balance.amount`, merchant.rail_balance.amount, merchant.rail_balance.currency), currency: merchant.rail_balance.currency };
    return {
      organisation: merchant.organisation, code: merchant.code, name: merchant.name, kind: merchant.kind, account: merchant.account,
      voucherGroups: merchant.voucher_groups ?? null, credential: merchant.credential === undefined ? null : merchant.credential === true ? {} : { key: merchant.credential.key },
      railBalance: railBalance ?? null, biller: merchant.biller ?? null,
    };
  });

  // A voucher number is a secret: a repeat is named by its places, never by the number.
  const firstPlaceOfNumber = new Map<string, number>();
  file.vouchers.forEach((voucher, index) => {
    const first = firstPlaceOfNumber.get(voucher.number);
    if (first === undefined) firstPlaceOfNumber.set(voucher.number, index);
    else problems.push(`vouchers[${index}].number: repeats the number of vouchers[${first}]`);
  });
  reportRepeats(problems, 'vouchers', file.vouchers.flatMap((voucher) => (voucher.serial_number === undefined ? [] : [`serial number ${voucher.serial_number}`])));
  const vouchers = file.vouchers.map((voucher, index) => {
    const place = `vouchers[${index}]`;
    mustBeDeclared(place, voucher.organisation);
    const group = file.voucher_groups.find((declared) => declared.organisation === voucher.organisation && declared.code === voucher.group);
    if (!group) problems.push(`${place}.group: "${voucher.organisation}" has no voucher group ${voucher.group} in the file`);
    const currency = file.programs.find((program) => program.organisation === voucher.organisation && program.code === group?.program)?.currency ?? 'XXX';
    return {
      organisation: voucher.organisation, group: voucher.group, number: voucher.number, status: voucher.status,
      amountMinor: group ? amountIn(problems, `${place}.amount`, voucher.amount, currency, { zero: false }) : 0n,
      // Valid through the whole of its expiry date, in UTC.
      expiresAt: voucher.expires === undefined ? null : new Date(`${voucher.expires}T23:59:59Z`),
      serialNumber: voucher.serial_number === undefined ? null : BigInt(voucher.serial_number),
    };
  });

  return {
    billers,
    payerInstitutions,
    voucherGroups,
    merchants,
    vouchers,
    organisations: file.organisations.map((organisation) => ({ name: organisation.name, clients: organisation.clients })),
    programs,
    beneficiaries: beneficiaries.flatMap((entry) => (entry.account ? [{ organisation: entry.organisation, registeringInstitution: entry.registeringInstitution, account: entry.account }] : [])),
  };
}

/** Zero is a valid threshold or budget, unlike a bill's amount. */
function amountIn(problems: string[], place: string, amount: string, currency: string, options: { zero: boolean } = { zero: true }): bigint {
  if (options.zero && /^0(\.0+)?$/.test(amount)) return 0n;
  const parsed = parseMoney(amount, currency);
  if (parsed.ok) return parsed.money.minor;
  problems.push(`${parsed.field === 'currency' ? place.replace(/\.[a-z_]+$/, '.currency') : place}: ${parsed.reason}`);
  return 0n;
}

function reportRepeats(problems: string[], place: string, keys: readonly string[]): void {
  const seen = new Set<string>();
  for (const key of keys) {
    if (seen.has(key) && !problems.includes(`${place}: "${key}" appears more than once`)) problems.push(`${place}: "${key}" appears more than once`);
    seen.add(key);
  }
}

function placeOf(path: readonly PropertyKey[]): string {
  return path.reduce<string>((place, key) => (typeof key === 'number' ? `${place}[${key}]` : place ? `${place}.${String(key)}` : String(key)), '') || '(file)';
}
