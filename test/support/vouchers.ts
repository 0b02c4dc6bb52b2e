import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createApiClient } from '../../src/services/create-api-client.ts';
import { apiClient } from './http.ts';
import { startTestKassa, type TestKassa } from './kassa.ts';
import { startPushReceiver, type PushReceiver } from './push-receiver.ts';

// What the voucher suites (GovStack v3 and legacy) share: a Kassa whose organisation has programs, voucher groups
// and merchants set up through Kassa's own API, a receiver for callbacks, and reads of what the database holds.

type Api = ReturnType<typeof apiClient>;

/** The account every program of these suites pays vouchers out from. */
export const VOUCHER_FUNDING = { type: 'iban', value: 'GB82WEST12345698765432' };

export interface VoucherSetup {
  readonly organisation: string;
  /** The issuing credential's name: the legacy API's Gov_Stack_BB must be it. */
  readonly issuerName: string;
  readonly programs: readonly { code: string; budget: string }[];
  readonly groups: readonly { code: string; program: string; validity?: string }[];
  /** Each with a credential of its own unless `credential: false`. */
  readonly merchants: readonly { code: string; name: string; account: { type: string; value: string }; voucher_groups?: string[]; credential?: boolean; kind?: string }[];
}

export interface VoucherKassa {
  readonly kassa: TestKassa;
  readonly receiver: PushReceiver;
  readonly admin: Api;
  /** The organisation's issuing building block: benefits:write and orders:read. */
  readonly issuer: Api;
  /** Program ids by code. */
  readonly programIds: ReadonlyMap<string, string>;
  /** Each merchant's own credential, by merchant code. */
  readonly merchantKeys: ReadonlyMap<string, string>;
  /** Another credential of the organisation, with this name and these scopes. */
  credential(name: string, scopes: Parameters<typeof createApiClient>[1]['scopes']): Promise<Api>;
  stop(): Promise<void>;
}

/** A Kassa (postgres queues, expiry every 300 ms) with the organisation's programs, voucher groups and merchants. */
export async function startVoucherKassa(setup: VoucherSetup): Promise<VoucherKassa> {
  const receiver = await startPushReceiver({
    path: '/issuer/callbacks',
    keysOf: ({ text }) => {
      const body = JSON.parse(text) as Record<string, string | undefined>;
      return [body.registerRequestID ?? body.requestID ?? ''];
    },
  });
  let kassa: TestKassa | undefined;
  try {
    kassa = await startTestKassa({ backend: 'postgres', env: { VOUCHER_EXPIRY_SWEEP_MS: '300' } });
    const started = kassa;
    const credential: VoucherKassa['credential'] = async (name, scopes) => {
      const created = await createApiClient(started.runtime.context.db, { organisation: setup.organisation, name, scopes }, { clientId: null, actor: 'test', sourceIp: null, requestId: null });
      return apiClient(started.url, created.apiKey);
    };
    const admin = await credential('voucher admin', ['admin']);
    const issuer = await credential(setup.issuerName, ['benefits:write', 'orders:read']);
    const programIds = new Map<string, string>();
    for (const program of setup.programs) {
      const created = await admin.post('/v1/programs', { code: program.code, name: `${program.code} vouchers`, currency: 'KES', budget: program.budget, funding_account: VOUCHER_FUNDING }, randomUUID());
      assert.equal(created.status, 201, JSON.stringify(created.body));
      programIds.set(program.code, created.body.id);
    }
    for (const group of setup.groups) {
      const created = await admin.post('/v1/voucher-groups', { name: `${group.code} group`, ...group }, randomUUID());
      assert.equal(created.status, 201, JSON.stringify(created.body));
    }
    const merchantKeys = new Map<string, string>();
    for (const { credential: ownCredential = true, ...merchant } of setup.merchants) {
      const created = await admin.post('/v1/merchants', { ...merchant, credential: ownCredential }, randomUUID());
      assert.equal(created.status, 201, JSON.stringify(created.body));
      if (ownCredential) merchantKeys.set(merchant.code, created.body.api_key);
    }
    return {
      kassa, receiver, admin, issuer, programIds, merchantKeys, credential,
      async stop() {
        await started.stop();
        await receiver.close();
      },
    };
  } catch (error) {
    await kassa?.stop();
    await receiver.close();
    throw error;
  }
}

/** A program's budget as the API shows it: budget, blocked, disbursed, available. */
export async function budgetOf(admin: Api, programId: string): Promise<{ budget: string; blocked: string; disbursed: string; available: string }> {
  const program = await admin.get(`/v1/programs/${programId}`);
  assert.equal(program.status, 200, JSON.stringify(program.body));
  return { budget: program.body.budget, blocked: program.body.blocked, disbursed: program.body.disbursed, available: program.body.available };
}

/** How many times the voucher was redeemed, and paid out, by the database's own count. */
export async function redemptionsOf(kassa: TestKassa, serialNumber: string): Promise<{ events: number; payouts: number }> {
  const db = kassa.runtime.context.db;
  // A payout's end is an event of a redeemed voucher too (redeemed → redeemed); a redemption is an event into redeemed.
  const [events] = (await db('voucher_events').where({ serial_number: serialNumber, to_status: 'redeemed' }).whereNot('from_status', 'redeemed').count({ count: '*' })) as { count: string }[];
  const [payouts] = (await db('orders').whereRaw(`metadata->>'voucher_serial_number' = ?`, [serialNumber]).count({ count: '*' })) as { count: string }[];
  return { events: Number(events!.count), payouts: Number(payouts!.count) };
}

/** Rows of the tables a voucher request writes to, for asserting that a refused one wrote none. */
export const VOUCHER_TABLES = ['vouchers', 'voucher_events', 'orders', 'callback_deliveries', 'audit_log'] as const;
