import { createHash } from 'node:crypto';
import { voucherNumberKey } from '../config/index.ts';
import type { Caller, RequestOrigin } from '../domain/caller.ts';
import { ProblemError } from '../domain/errors.ts';
import { formatMoney, parseMoney, type Money } from '../domain/money.ts';
import { grants } from '../domain/scopes.ts';
import { generateVoucherNumbers, hashVoucherNumber, VoucherRefused, type VoucherRefusal } from '../domain/voucher.ts';
import { appendAudit } from '../db/repositories/audit-log.ts';
import { claimIdempotencyKey, completeIdempotencyKey, findIdempotentResponse } from '../db/repositories/idempotency-keys.ts';
import { findVoucherGroupsByCode, type VoucherGroup } from '../db/repositories/voucher-groups.ts';
import { insertVouchers, vouchersOfRequest, type IssuedVoucher, type NewVoucher } from '../db/repositories/vouchers.ts';
import type { Database } from '../db/knex.ts';
import type { ServiceContext } from './context.ts';
import { replayable, type Idempotency } from './idempotent-replay.ts';
import { blockVoucherTotals } from './program-funds.ts';
import { queueCallback } from './queue-callback.ts';

/** One voucher asked for. */
export interface VoucherInstruction {
  readonly instructionId: string | null;
  readonly groupCode: string;
  readonly currency: string;
  /** Decimal text in major units, as given. */
  readonly amount: string;
  readonly payeeFunctionalId: string | null;
  readonly narration: string | null;
}

export interface PreActivationRequest {
  /** The caller's id for the request: sent again with the same instructions, it answers the vouchers it made. */
  readonly requestId: string;
  readonly batchReference: string | null;
  /** GovStack's issuing agency, whose later requests reach these vouchers; empty when none is named. */
  readonly registeringInstitution: string;
  /** When given, every group asked for must draw on this program's budget. */
  readonly programCode: string | null;
  readonly instructions: readonly VoucherInstruction[];
  /** Where the creation is confirmed (GovStack's Create_Vouchers_Response), without the voucher numbers. */
  readonly callbackUrl: string | null;
}

export interface PreActivatedVoucher {
  readonly instructionId: string | null;
  readonly serialNumber: bigint;
  /** In the first answer only: nothing but its hash is kept. A repeat of the request answers null. */
  readonly voucherNumber: string | null;
  readonly groupCode: string;
  readonly amount: Money;
  readonly narration: string | null;
  readonly expiresAt: Date;
}

export interface PreActivation {
  /** In the order of the instructions. */
  readonly vouchers: readonly PreActivatedVoucher[];
  readonly replayed: boolean;
}

/** Vouchers are written this many to a statement: set-based, with the statement's parameters kept to a few megabytes. */
const VOUCHERS_PER_STATEMENT = 10_000;
/** A new number may hash like one issued before (one chance in many billions); the whole request is then tried anew. */
const ATTEMPTS = 3;
/** Problems named in a refusal; the rest are counted. */
const PROBLEMS_NAMED = 5;

class NumberTaken extends Error {
  override name = 'NumberTaken';
}

interface PricedInstruction extends VoucherInstruction {
  readonly group: VoucherGroup;
  readonly minor: bigint;
}

/**
 * Creates pre-activated vouchers against their groups' program budgets. Every instruction is checked first, then, in
 * one transaction, the total of each program is blocked on its budget before any voucher exists (the budget's check
 * makes overspending impossible whoever else draws on it), and the vouchers are written set-based. Any refusal leaves
 * nothing behind. The voucher numbers leave Kassa in this answer only.
 */
export async function preActivateVouchers(context: Pick<ServiceContext, 'db' | 'config' | 'queues' | 'logger'>, caller: Caller, origin: RequestOrigin, request: PreActivationRequest): Promise<PreActivation> {
  if (!grants(caller.scopes, 'benefits:write')) throw new ProblemError(403, 'insufficient_scope', 'Forbidden', 'issuing vouchers needs the benefits:write scope');
  const groups = await findVoucherGroupsByCode(context.db, caller.organisationId, [...new Set(request.instructions.map((instruction) => instruction.groupCode))]);
  const priced = price(request, groups);
  const idempotency = preActivationIdempotency(request);
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await context.db.transaction((trx) => issue(context, trx, caller, origin, request, priced, idempotency));
    } catch (error) {
      if (!(error instanceof NumberTaken) || attempt === ATTEMPTS) throw error;
    }
  }
}

/** Checks every instruction against its group; refuses with the first problem's reason, naming the first few. */
function price(request: PreActivationRequest, groups: ReadonlyMap<string, VoucherGroup>): PricedInstruction[] {
  const problems: { reason: VoucherRefusal; text: string }[] = [];
  const priced: PricedInstruction[] = [];
  request.instructions.forEach((instruction, index) => {
    const name = instruction.instructionId ?? `instruction ${index + 1}`;
    const group = groups.get(instruction.groupCode);
    if (!group) return problems.push({ reason: 'invalid_group', text: `${name}: there is no voucher group ${instruction.groupCode}` });
    if (request.programCode !== null && group.programCode !== request.programCode) {
      return problems.push({ reason: 'invalid_group', text: `${name}: voucher group ${group.code} draws on program ${group.programCode}, not ${request.programCode}` });
    }
    if (instruction.currency !== group.currency) {
      return problems.push({ reason: 'invalid_currency', text: `${name}: vouchers of group ${group.code} are in ${group.currency}, not ${instruction.currency}` });
    }
    const amount = parseMoney(instruction.amount, group.currency);
    if (!amount.ok) return problems.push({ reason: 'invalid_amount', text: `${name}: amount ${amount.reason}` });
    priced.push({ ...instruction, group, minor: amount.money.minor });
  });
  if (problems.length > 0) {
    const more = problems.length > PROBLEMS_NAMED ? `; and ${problems.length - PROBLEMS_NAMED} more` : '';
    throw new VoucherRefused(problems[0]!.reason, `${problems.slice(0, PROBLEMS_NAMED).map((problem) => problem.text).join('; ')}${more}`);
  }
  return priced;
}

/** The request id is the idempotency key; the hash covers what the vouchers are, so a changed request is a conflict. */
function preActivationIdempotency(request: PreActivationRequest): Idempotency {
  const content = [request.batchReference, request.registeringInstitution, request.programCode, request.callbackUrl,
    request.instructions.map((instruction) => [instruction.instructionId, instruction.groupCode, instruction.currency, instruction.amount, instruction.payeeFunctionalId, instruction.narration])];
  return {
    key: `govstack ${JSON.stringify(['vouchers.pre_activate', request.requestId])}`,
    requestHash: createHash('sha256').update(JSON.stringify(content)).digest('hex'),
  };
}

async function issue(
  context: Pick<ServiceContext, 'db' | 'config' | 'queues' | 'logger'>, trx: Database, caller: Caller, origin: RequestOrigin, request: PreActivationRequest,
  priced: readonly PricedInstruction[], idempotency: Idempotency,
): Promise<PreActivation> {
  if (!(await claimIdempotencyKey(trx, caller.organisationId, idempotency.key, idempotency.requestHash))) {
    replayable(await findIdempotentResponse(trx, caller.organisationId, idempotency.key), idempotency);
    return { vouchers: (await vouchersOfRequest(trx, caller.organisationId, request.requestId)).map((voucher) => ({
      instructionId: voucher.instructionId, serialNumber: voucher.serialNumber, voucherNumber: null, groupCode: voucher.groupCode,
      amount: { minor: voucher.amountMinor, currency: voucher.currency }, narration: voucher.narration, expiresAt: voucher.expiresAt,
    })), replayed: true };
  }
  await blockTotals(trx, priced);
  const numbers = generateVoucherNumbers(priced.length);
  const key = voucherNumberKey(context.config);
  const drafts: NewVoucher[] = priced.map((instruction, index) => ({
    numberHash: hashVoucherNumber(numbers[index]!, key), groupId: instruction.group.id, amountMinor: instruction.minor, currency: instruction.group.currency,
    instructionId: instruction.instructionId, payeeFunctionalId: instruction.payeeFunctionalId, narration: instruction.narration,
  }));
  const issued = new Map<string, IssuedVoucher>();
  const issuance = { organisationId: caller.organisationId, requestId: request.requestId, batchReference: request.batchReference, registeringInstitution: request.registeringInstitution, createdBy: caller.clientId };
  for (let start = 0; start < drafts.length; start += VOUCHERS_PER_STATEMENT) {
    for (const [hash, voucher] of await insertVouchers(trx, issuance, drafts.slice(start, start + VOUCHERS_PER_STATEMENT))) issued.set(hash, voucher);
  }
  if (issued.size < drafts.length) throw new NumberTaken();
  const vouchers = priced.map((instruction, index): PreActivatedVoucher => {
    const voucher = issued.get(drafts[index]!.numberHash)!;
    return {
      instructionId: instruction.instructionId, serialNumber: voucher.serialNumber, voucherNumber: numbers[index]!, groupCode: instruction.group.code,
      amount: { minor: instruction.minor, currency: instruction.group.currency }, narration: instruction.narration, expiresAt: voucher.expiresAt,
    };
  });
  await appendAudit(trx, {
    organisationId: caller.organisationId, clientId: caller.clientId, actor: caller.clientName, action: 'voucher.pre_activate', target: request.requestId,
    sourceIp: origin.sourceIp, requestId: origin.requestId,
    detail: { vouchers: vouchers.length, totals: totalsByCurrency(vouchers), batch_reference: request.batchReference, first_serial_number: vouchers[0]!.serialNumber.toString() },
  });
  if (request.callbackUrl) {
    await queueCallback(context, {
      organisationId: caller.organisationId, url: request.callbackUrl, eventType: 'vouchers.pre_activated',
      body: creationCallbackBody(request, vouchers), dedupeKey: `vouchers.pre_activate ${JSON.stringify([request.requestId])}`,
    }, trx);
  }
  await completeIdempotencyKey(trx, caller.organisationId, idempotency.key, { status: 200, body: { vouchers: vouchers.length } });
  return { vouchers, replayed: false };
}

/** Blocks each program's total on its budget; a program whose budget left does not cover it refuses the whole request. */
async function blockTotals(trx: Database, priced: readonly PricedInstruction[]): Promise<void> {
  const short = await blockVoucherTotals(trx, priced.map((instruction) => ({ group: instruction.group, amountMinor: instruction.minor })));
  if (short) {
    const asked = formatMoney({ minor: short.totalMinor, currency: short.group.currency });
    throw new VoucherRefused('group_exhausted', `the budget left of program ${short.group.programCode} does not cover the ${asked} ${short.group.currency} these vouchers are worth`);
  }
}

function totalsByCurrency(vouchers: readonly PreActivatedVoucher[]): Record<string, string> {
  const totals = new Map<string, bigint>();
  for (const voucher of vouchers) totals.set(voucher.amount.currency, (totals.get(voucher.amount.currency) ?? 0n) + voucher.amount.minor);
  return Object.fromEntries([...totals].map(([currency, minor]) => [currency, formatMoney({ minor, currency })]));
}

/**
 * GovStack's Create_Vouchers_Response (VoucherCreationResponse.yml), echoing the request's id. Its voucherNumber is
 * left out: the callback is stored until delivered, and a voucher number is never stored.
 */
function creationCallbackBody(request: PreActivationRequest, vouchers: readonly PreActivatedVoucher[]) {
  return {
    requestID: request.requestId,
    ...(request.batchReference === null ? {} : { batchID: request.batchReference }),
    voucherInstructions: vouchers.map((voucher) => ({
      ...(voucher.instructionId === null ? {} : { instructionID: voucher.instructionId }),
      serialNumber: voucher.serialNumber.toString(),
      currency: voucher.amount.currency,
      amount: Number(formatMoney(voucher.amount)),
      ...(voucher.narration === null ? {} : { narration: voucher.narration }),
      expiryDate: voucher.expiresAt.toISOString(),
    })),
  };
}
