import type { Party } from '../../domain/order.ts';
import type { OrderStatus } from '../../domain/order-status.ts';
import { statusAfter, statusesAllowing, type SerialCommand, type VoucherPayoutOrder, type VoucherState, type VoucherStatus } from '../../domain/voucher.ts';
import type { Database } from '../knex.ts';

/**
 * Whose vouchers a request reaches: the organisation's, and when the request names its registering institution
 * (GovStack's issuing agency), only that institution's.
 */
export interface VoucherScope {
  readonly organisationId: string;
  readonly registeringInstitution?: string;
}

function scoped(scope: VoucherScope): { sql: string; bindings: string[] } {
  return scope.registeringInstitution === undefined
    ? { sql: 'v.organisation_id = ?', bindings: [scope.organisationId] }
    : { sql: 'v.organisation_id = ? AND v.registering_institution = ?', bindings: [scope.organisationId, scope.registeringInstitution] };
}

/** What one pre-activation request shares among its vouchers. */
export interface VoucherIssue {
  readonly organisationId: string;
  readonly requestId: string;
  readonly batchReference: string | null;
  readonly registeringInstitution: string;
  readonly createdBy: string;
}

export interface NewVoucher {
  /** Hex of the keyed hash of the voucher's number. */
  readonly numberHash: string;
  readonly groupId: string;
  readonly amountMinor: bigint;
  readonly currency: string;
  readonly instructionId: string | null;
  readonly payeeFunctionalId: string | null;
  readonly narration: string | null;
}

export interface IssuedVoucher {
  readonly serialNumber: bigint;
  readonly expiresAt: Date;
}

/**
 * Inserts the vouchers in one statement, pre-activated and valid for their group's validity from now, serial numbers
 * in the order given. Answers each new voucher by its number's hash; a number whose hash is taken already is skipped
 * and missing from the answer.
 */
export async function insertVouchers(db: Database, issue: VoucherIssue, vouchers: readonly NewVoucher[]): Promise<Map<string, IssuedVoucher>> {
  const { rows } = (await db.raw(
    `INSERT INTO vouchers (organisation_id, number_hash, group_id, amount_minor, currency, status, expires_at, request_id, batch_reference,
                           instruction_id, registering_institution, payee_functional_id, narration, created_by)
     SELECT ?, decode(x.number_hash, 'hex'), x.group_id, x.amount_minor, x.currency, 'pre_activated', now() + make_interval(secs => g.validity_seconds),
            ?, ?, x.instruction_id, ?, x.payee_functional_id, x.narration, ?
     FROM jsonb_to_recordset(?::jsonb) AS x(position int, number_hash text, group_id uuid, amount_minor bigint, currency text,
                                            instruction_id text, payee_functional_id text, narration text)
     JOIN voucher_groups g ON g.id = x.group_id
     ORDER BY x.position
     ON CONFLICT (number_hash) DO NOTHING
     RETURNING serial_number, encode(number_hash, 'hex') AS number_hash, expires_at`,
    [issue.organisationId, issue.requestId, issue.batchReference, issue.registeringInstitution, issue.createdBy,
      JSON.stringify(vouchers.map((voucher, position) => ({
        position, number_hash: voucher.numberHash, group_id: voucher.groupId, amount_minor: voucher.amountMinor.toString(), currency: voucher.currency,
        instruction_id: voucher.instructionId, payee_functional_id: voucher.payeeFunctionalId, narration: voucher.narration,
      })))],
  )) as { rows: { serial_number: string; number_hash: string; expires_at: Date }[] };
  return new Map(rows.map((row) => [row.number_hash, { serialNumber: BigInt(row.serial_number), expiresAt: row.expires_at }]));
}

/** A voucher as its issuer may see it: never its number, which only its hash stands for here. */
export interface VoucherView extends VoucherState {
  readonly serialNumber: bigint;
  readonly groupCode: string;
  readonly amountMinor: bigint;
  readonly currency: string;
  readonly expiresAt: Date;
  readonly instructionId: string | null;
  readonly narration: string | null;
}

interface VoucherViewRow {
  serial_number: string;
  status: VoucherStatus;
  past_expiry: boolean;
  group_code: string;
  amount_minor: string;
  currency: string;
  expires_at: Date;
  instruction_id: string | null;
  narration: string | null;
}

const VIEW_COLUMNS = `v.serial_number, v.status, v.expires_at <= now() AS past_expiry, g.code AS group_code, v.amount_minor, v.currency, v.expires_at,
                      v.instruction_id, v.narration`;

function viewFromRow(row: VoucherViewRow): VoucherView {
  return {
    serialNumber: BigInt(row.serial_number), status: row.status, pastExpiry: row.past_expiry, groupCode: row.group_code, amountMinor: BigInt(row.amount_minor),
    currency: row.currency.trim(), expiresAt: row.expires_at, instructionId: row.instruction_id, narration: row.narration,
  };
}

export async function findVoucher(db: Database, scope: VoucherScope, serialNumber: bigint): Promise<VoucherView | undefined> {
  const where = scoped(scope);
  const { rows } = (await db.raw(
    `SELECT ${VIEW_COLUMNS} FROM vouchers v JOIN voucher_groups g ON g.id = v.group_id WHERE v.serial_number = ? AND ${where.sql}`,
    [serialNumber.toString(), ...where.bindings],
  )) as { rows: VoucherViewRow[] };
  return rows[0] && viewFromRow(rows[0]);
}

/** The vouchers one pre-activation request created, in serial order: what a repeat of the request is answered. */
export async function vouchersOfRequest(db: Database, organisationId: string, requestId: string): Promise<VoucherView[]> {
  const { rows } = (await db.raw(
    `SELECT ${VIEW_COLUMNS} FROM vouchers v JOIN voucher_groups g ON g.id = v.group_id
     WHERE v.organisation_id = ? AND v.request_id = ? ORDER BY v.serial_number`,
    [organisationId, requestId],
  )) as { rows: VoucherViewRow[] };
  return rows.map(viewFromRow);
}

export async function findVoucherStates(db: Database, scope: VoucherScope, serialNumbers: readonly bigint[]): Promise<Map<bigint, VoucherState>> {
  if (serialNumbers.length === 0) return new Map();
  const where = scoped(scope);
  const { rows } = (await db.raw(
    `SELECT v.serial_number, v.status, v.expires_at <= now() AS past_expiry FROM vouchers v WHERE v.serial_number = ANY(?::bigint[]) AND ${where.sql}`,
    [serialNumbers.map(String), ...where.bindings],
  )) as { rows: { serial_number: string; status: VoucherStatus; past_expiry: boolean }[] };
  return new Map(rows.map((row) => [BigInt(row.serial_number), { status: row.status, pastExpiry: row.past_expiry }]));
}

/** What a status change moved: the program whose budget the voucher holds, and how much. */
export interface ChangedVoucher {
  readonly serialNumber: bigint;
  readonly programId: string;
  readonly amountMinor: bigint;
}

/**
 * Applies a command to the vouchers named, in one statement: each row is locked in serial order (two statements over
 * the same vouchers never deadlock), changed only if the state machine allows the command from its status and its
 * validity has not run out, and given an event. Activation starts the voucher's validity afresh, as GovStack counts
 * it from activation. Vouchers not changed are simply not answered.
 *
 * The UPDATEs here find their rows through an array of the locked keys: by primary key, whatever the planner's
 * statistics say of a table that a pre-activation has just filled.
 */
export async function transitionVouchers(db: Database, scope: VoucherScope, command: SerialCommand, serialNumbers: readonly bigint[], detail: Record<string, unknown>): Promise<ChangedVoucher[]> {
  if (serialNumbers.length === 0) return [];
  const where = scoped(scope);
  const activation = command === 'activate';
  const { rows } = (await db.raw(
    `WITH locked AS (
       SELECT v.serial_number FROM vouchers v
       WHERE v.serial_number = ANY(?::bigint[]) AND ${where.sql}
       ORDER BY v.serial_number FOR UPDATE
     ), changed AS (
       UPDATE vouchers v SET status = ?, previous_status = v.status, updated_at = now(),
         expires_at = CASE WHEN ? THEN now() + make_interval(secs => g.validity_seconds) ELSE v.expires_at END,
         activated_at = CASE WHEN ? THEN now() ELSE v.activated_at END
       FROM voucher_groups g
       WHERE v.serial_number = ANY(ARRAY(SELECT serial_number FROM locked)) AND g.id = v.group_id AND v.status = ANY(?::text[]) AND v.expires_at > now()
       RETURNING v.serial_number, v.previous_status, g.program_id, v.amount_minor
     ), events AS (
       INSERT INTO voucher_events (serial_number, from_status, to_status, detail)
       SELECT serial_number, previous_status, ?, ?::jsonb FROM changed
     )
     SELECT serial_number, program_id, amount_minor FROM changed`,
    [serialNumbers.map(String), ...where.bindings, statusAfter(command), activation, activation, [...statusesAllowing(command)], statusAfter(command), JSON.stringify(detail)],
  )) as { rows: { serial_number: string; program_id: string; amount_minor: string }[] };
  return rows.map((row) => ({ serialNumber: BigInt(row.serial_number), programId: row.program_id, amountMinor: BigInt(row.amount_minor) }));
}

/**
 * Marks up to `limit` vouchers whose validity has run out as expired, with their events. Rows another transaction
 * holds are skipped (the next run takes them), so expiry never waits on a redemption or a cancellation.
 */
export async function expireDueVouchers(db: Database, limit: number): Promise<ChangedVoucher[]> {
  const { rows } = (await db.raw(
    `WITH due AS (
       SELECT serial_number FROM vouchers
       WHERE status = ANY(?::text[]) AND expires_at <= now()
       ORDER BY expires_at LIMIT ? FOR UPDATE SKIP LOCKED
     ), changed AS (
       UPDATE vouchers v SET status = ?, previous_status = v.status, updated_at = now()
       FROM voucher_groups g
       WHERE v.serial_number = ANY(ARRAY(SELECT serial_number FROM due)) AND g.id = v.group_id AND v.status = ANY(?::text[]) AND v.expires_at <= now()
       RETURNING v.serial_number, v.previous_status, v.expires_at, g.program_id, v.amount_minor
     ), events AS (
       INSERT INTO voucher_events (serial_number, from_status, to_status, detail)
       SELECT serial_number, previous_status, ?, jsonb_build_object('expires_at', expires_at) FROM changed
     )
     SELECT serial_number, program_id, amount_minor FROM changed`,
    [[...statusesAllowing('expire')], limit, statusAfter('expire'), [...statusesAllowing('expire')], statusAfter('expire')],
  )) as { rows: { serial_number: string; program_id: string; amount_minor: string }[] };
  return rows.map((row) => ({ serialNumber: BigInt(row.serial_number), programId: row.program_id, amountMinor: BigInt(row.amount_minor) }));
}

/** A voucher as a redemption needs it: its state, what it is worth, and who pays it out. */
export interface RedeemableVoucher extends VoucherState {
  readonly serialNumber: bigint;
  readonly groupCode: string;
  readonly amountMinor: bigint;
  readonly currency: string;
  readonly programId: string;
  readonly fundingAccount: Party;
  /** Set once redeemed: which request by which merchant, and the payout it made and where that payout stands. */
  readonly redemption: VoucherRedemptionRecord | null;
}

export interface VoucherRedemptionRecord {
  readonly requestId: string | null;
  readonly merchantId: string;
  readonly at: Date;
  readonly orderId: string;
}

/** Where a redeemed voucher's payout stands: read only when a redemption is asked about again. */
export interface PayoutState {
  readonly status: OrderStatus;
  readonly failureCode: string | null;
  readonly failureReason: string | null;
}

export async function findPayoutState(db: Database, orderId: string): Promise<PayoutState | undefined> {
  const row = (await db('orders').select('status', 'failure_code', 'failure_reason').where({ id: orderId }).first()) as
    { status: OrderStatus; failure_code: string | null; failure_reason: string | null } | undefined;
  return row && { status: row.status, failureCode: row.failure_code, failureReason: row.failure_reason };
}

/** The voucher whose number hashes to `numberHash`, within the scope. */
export async function findVoucherByNumber(db: Database, scope: VoucherScope, numberHash: string): Promise<RedeemableVoucher | undefined> {
  const where = scoped(scope);
  const { rows } = (await db.raw(
    `SELECT v.serial_number, v.status, v.expires_at <= now() AS past_expiry, g.code AS group_code, v.amount_minor, v.currency, g.program_id,
            p.funding_account, v.redemption_request_id, v.redeemed_by, v.payout_order_id, v.redeemed_at
     FROM vouchers v JOIN voucher_groups g ON g.id = v.group_id JOIN programs p ON p.id = g.program_id
     WHERE v.number_hash = decode(?, 'hex') AND ${where.sql}`,
    [numberHash, ...where.bindings],
  )) as {
    rows: {
      serial_number: string; status: VoucherStatus; past_expiry: boolean; group_code: string; amount_minor: string; currency: string; program_id: string;
      funding_account: Party; redemption_request_id: string | null; redeemed_by: string | null; payout_order_id: string | null; redeemed_at: Date | null;
    }[];
  };
  const [row] = rows;
  if (!row) return undefined;
  return {
    serialNumber: BigInt(row.serial_number), status: row.status, pastExpiry: row.past_expiry, groupCode: row.group_code, amountMinor: BigInt(row.amount_minor),
    currency: row.currency.trim(), programId: row.program_id, fundingAccount: row.funding_account,
    redemption: row.redeemed_by && row.payout_order_id && row.redeemed_at
      ? { requestId: row.redemption_request_id, merchantId: row.redeemed_by, at: row.redeemed_at, orderId: row.payout_order_id }
      : null,
  };
}

/** One redemption to write: the voucher, the merchant it pays, and the payout order to the merchant's account. */
export interface VoucherRedemption {
  readonly serialNumber: bigint;
  readonly merchantId: string;
  readonly requestId: string | null;
  readonly payout: VoucherPayoutOrder;
  readonly audit: { readonly clientId: string; readonly actor: string; readonly sourceIp: string | null; readonly requestId: string; readonly detail: Record<string, unknown> };
}

export interface RedeemedVoucher extends ChangedVoucher {
  readonly orderId: string;
  readonly redeemedAt: Date;
}

/**
 * Redeems vouchers in one statement: each voucher still activated and valid becomes redeemed (a guarded UPDATE, so of
 * two redemptions of one voucher only one finds it activated), with its event, its payout order (first event and
 * outbox row, so the workers send it like any other order) and its audit entry, and its amount moves from blocked to
 * disbursed on its program's budget. One statement is one round trip and one commit for any number of redemptions.
 * Vouchers not redeemed are not answered.
 */
export async function redeemVouchers(db: Database, redemptions: readonly VoucherRedemption[]): Promise<RedeemedVoucher[]> {
  if (redemptions.length === 0) return [];
  const { rows } = (await db.raw(
    `WITH input AS (
       SELECT * FROM jsonb_to_recordset(?::jsonb) AS x(serial_number bigint, merchant_id uuid, redemption_request_id text, order_id uuid, rail text,
         payer jsonb, payee jsonb, reference text, metadata jsonb, client_id uuid, actor text, source_ip text, http_request_id text, audit_detail jsonb)
     ), locked AS (
       SELECT v.serial_number FROM vouchers v WHERE v.serial_number = ANY(ARRAY(SELECT serial_number FROM input)) ORDER BY v.serial_number FOR UPDATE
     ), redeemed AS (
       UPDATE vouchers v SET status = ?, previous_status = v.status, updated_at = now(), redeemed_at = now(), redeemed_by = i.merchant_id,
         redemption_request_id = i.redemption_request_id, payout_order_id = i.order_id
       FROM input i
       WHERE v.serial_number = ANY(ARRAY(SELECT serial_number FROM locked)) AND v.serial_number = i.serial_number
         AND v.status = ANY(?::text[]) AND v.expires_at > now()
       RETURNING v.serial_number, v.previous_status, v.organisation_id, v.group_id, v.amount_minor, v.currency, v.redeemed_at, i.merchant_id,
                 i.order_id, i.rail, i.payer, i.payee, i.reference, i.metadata, i.client_id, i.actor, i.source_ip, i.http_request_id, i.audit_detail
     ), events AS (
       INSERT INTO voucher_events (serial_number, from_status, to_status, detail)
       SELECT serial_number, previous_status, ?, jsonb_build_object('merchant_id', merchant_id, 'order_id', order_id) FROM redeemed
     ), payouts AS (
       INSERT INTO orders (id, organisation_id, kind, status, amount_minor, currency, payer, payee, reference, metadata, rail, rail_key, program_id)
       SELECT r.order_id, r.organisation_id, 'benefit', 'received', r.amount_minor, r.currency, r.payer, r.payee, r.reference, r.metadata, r.rail,
              replace(r.order_id::text, '-', ''), g.program_id
       FROM redeemed r JOIN voucher_groups g ON g.id = r.group_id
       RETURNING id, rail
     ), payout_events AS (
       INSERT INTO order_events (order_id, from_status, to_status, detail)
       SELECT order_id, NULL, 'received', jsonb_build_object('voucher_serial_number', serial_number::text) FROM redeemed
     ), work AS (
       INSERT INTO outbox (order_id, rail) SELECT id, rail FROM payouts
     ), audit AS (
       INSERT INTO audit_log (organisation_id, client_id, actor, action, target, source_ip, request_id, detail)
       SELECT organisation_id, client_id, actor, 'voucher.redeem', serial_number::text, source_ip, http_request_id,
              audit_detail || jsonb_build_object('merchant_id', merchant_id, 'order_id', order_id)
       FROM redeemed
     ), spent AS (
       SELECT r.serial_number, g.program_id, r.amount_minor, r.order_id, r.redeemed_at FROM redeemed r JOIN voucher_groups g ON g.id = r.group_id
     ), budget AS (
       UPDATE programs p SET reserved_minor = p.reserved_minor - t.total, disbursed_minor = p.disbursed_minor + t.total, updated_at = now()
       FROM (SELECT program_id, sum(amount_minor) AS total FROM spent GROUP BY program_id) t
       WHERE p.id = t.program_id
     )
     SELECT * FROM spent`,
    [
      JSON.stringify(redemptions.map((redemption) => ({
        serial_number: redemption.serialNumber.toString(), merchant_id: redemption.merchantId, redemption_request_id: redemption.requestId,
        order_id: redemption.payout.orderId, rail: redemption.payout.rail, payer: redemption.payout.payer, payee: redemption.payout.payee,
        reference: redemption.payout.reference, metadata: redemption.payout.metadata, client_id: redemption.audit.clientId, actor: redemption.audit.actor,
        source_ip: redemption.audit.sourceIp, http_request_id: redemption.audit.requestId, audit_detail: redemption.audit.detail,
      }))),
      statusAfter('redeem'), [...statusesAllowing('redeem')], statusAfter('redeem'),
    ],
  )) as { rows: { serial_number: string; program_id: string; amount_minor: string; order_id: string; redeemed_at: Date }[] };
  return rows.map((row) => ({
    serialNumber: BigInt(row.serial_number), programId: row.program_id, amountMinor: BigInt(row.amount_minor), orderId: row.order_id, redeemedAt: row.redeemed_at,
  }));
}

/** A voucher loaded as reference data, in the status the seed gives it. */
export interface SeededVoucher {
  readonly numberHash: string;
  readonly groupId: string;
  readonly amountMinor: bigint;
  readonly currency: string;
  readonly status: VoucherStatus;
  readonly expiresAt: Date;
  /** Null: the next of the sequence. */
  readonly serialNumber: bigint | null;
}

/** The seeded vouchers whose numbers exist already, by number hash: what they are now. */
export async function findVouchersByNumberHashes(db: Database, organisationId: string, numberHashes: readonly string[]): Promise<Map<string, Omit<SeededVoucher, 'expiresAt' | 'serialNumber'> & { serialNumber: bigint }>> {
  if (numberHashes.length === 0) return new Map();
  const { rows } = (await db.raw(
    `SELECT encode(number_hash, 'hex') AS number_hash, serial_number, group_id, amount_minor, currency, status FROM vouchers
     WHERE organisation_id = ? AND number_hash = ANY(ARRAY(SELECT decode(h, 'hex') FROM unnest(?::text[]) AS h))`,
    [organisationId, [...numberHashes]],
  )) as { rows: { number_hash: string; serial_number: string; group_id: string; amount_minor: string; currency: string; status: VoucherStatus }[] };
  return new Map(rows.map((row) => [row.number_hash, {
    numberHash: row.number_hash, serialNumber: BigInt(row.serial_number), groupId: row.group_id, amountMinor: BigInt(row.amount_minor), currency: row.currency.trim(), status: row.status,
  }]));
}

/** Which of these serial numbers some voucher, of any organisation, has already. */
export async function existingSerialNumbers(db: Database, serialNumbers: readonly bigint[]): Promise<bigint[]> {
  if (serialNumbers.length === 0) return [];
  const { rows } = (await db.raw('SELECT serial_number FROM vouchers WHERE serial_number = ANY(?::bigint[]) ORDER BY serial_number', [serialNumbers.map(String)])) as { rows: { serial_number: string }[] };
  return rows.map((row) => BigInt(row.serial_number));
}

/**
 * Writes seeded vouchers in one statement, each in its given status with an event saying it was seeded (the
 * event's from_status is the status itself: the voucher did not move, it was put there). The sequence is moved past
 * the highest fixed serial number first, so no voucher numbered by it, now or later, can be given a fixed one.
 */
export async function insertSeededVouchers(db: Database, organisationId: string, vouchers: readonly SeededVoucher[]): Promise<void> {
  if (vouchers.length === 0) return;
  const fixed = vouchers.flatMap((voucher) => (voucher.serialNumber === null ? [] : [voucher.serialNumber]));
  if (fixed.length > 0) {
    const highest = fixed.reduce((a, b) => (a > b ? a : b)).toString();
    await db.raw(`SELECT setval('voucher_serial_numbers', ?::bigint) WHERE ?::bigint >= (SELECT last_value FROM voucher_serial_numbers)`, [highest, highest]);
  }
  const rows = JSON.stringify(vouchers.map((voucher, position) => ({
    position, serial_number: voucher.serialNumber?.toString() ?? null, number_hash: voucher.numberHash, group_id: voucher.groupId,
    amount_minor: voucher.amountMinor.toString(), currency: voucher.currency, status: voucher.status, expires_at: voucher.expiresAt.toISOString(),
  })));
  await db.raw(
    `WITH seeded AS (
       INSERT INTO vouchers (serial_number, organisation_id, number_hash, group_id, amount_minor, currency, status, expires_at, request_id, activated_at)
       SELECT COALESCE(x.serial_number, nextval('voucher_serial_numbers')), ?, decode(x.number_hash, 'hex'), x.group_id, x.amount_minor, x.currency, x.status,
              x.expires_at, 'seed', CASE WHEN x.status = 'pre_activated' THEN NULL ELSE now() END
       FROM jsonb_to_recordset(?::jsonb) AS x(position int, serial_number bigint, number_hash text, group_id uuid, amount_minor bigint, currency text, status text, expires_at timestamptz)
       ORDER BY x.position
       RETURNING serial_number, status
     )
     INSERT INTO voucher_events (serial_number, from_status, to_status, detail)
     SELECT serial_number, status, status, '{"seeded": true}'::jsonb FROM seeded`,
    [organisationId, rows],
  );
}
