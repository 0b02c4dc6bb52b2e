import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the agency does before pay day, over Kassa's API as the agency would. */
export interface Api {
  readonly url: string;
  readonly apiKey: string;
}

export interface Beneficiary {
  readonly functionalId: string;
  readonly modality: '00' | '01';
  readonly financialAddress: string;
}

export const REGISTERING_INSTITUTION = 'BENCH';
const REGISTRATIONS_PER_REQUEST = 10_000;
const REGISTRATIONS_AT_ONCE = 2;

async function post(api: Api, path: string, body: unknown, headers: Record<string, string> = {}): Promise<unknown> {
  const response = await fetch(`${api.url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${api.apiKey}`, 'content-type': 'application/json', 'idempotency-key': `bench-${path}-${Date.now()}-${Math.random()}`, ...headers },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  if (response.status >= 300) throw new Error(`POST ${path} answered ${response.status}: ${text.slice(0, 500)}`);
  return JSON.parse(text) as unknown;
}

export async function createProgram(api: Api, program: { code: string; currency: string; budget: string }): Promise<void> {
  await post(api, '/v1/programs', {
    code: program.code, name: 'Bench cash transfer', currency: program.currency, budget: program.budget, approval_threshold: '0',
    funding_account: { type: 'iban', value: 'GB82WEST12345698765432' },
  });
}

/** A second credential of the same organisation, for the checker's half of maker–checker. */
export async function checkerKey(api: Api): Promise<string> {
  const created = (await post(api, '/v1/clients', { name: 'bench checker', scopes: ['benefits:approve', 'orders:read'] })) as { api_key: string };
  return created.api_key;
}

/**
 * Registers beneficiaries through the GovStack account mapper, in requests of 10,000; the per-beneficiary
 * results go to a receiver here that only acknowledges them.
 */
export async function registerBeneficiaries(api: Api, count: number, beneficiary: (index: number) => Beneficiary): Promise<void> {
  const receiver = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(204).end());
  }).listen(0, '127.0.0.1');
  await once(receiver, 'listening');
  const callbackUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/registrations`;
  try {
    let next = 0;
    const worker = async () => {
      for (;;) {
        const start = next;
        next += REGISTRATIONS_PER_REQUEST;
        if (start >= count) return;
        const beneficiaries = [];
        for (let index = start; index < Math.min(start + REGISTRATIONS_PER_REQUEST, count); index += 1) {
          const entry = beneficiary(index);
          beneficiaries.push({ payeeIdentity: entry.functionalId, PaymentModality: entry.modality, FinancialAddress: entry.financialAddress });
        }
        await post(api, '/identityAccountMapper/beneficiary', { RequestID: `R${start}`.slice(0, 12), Beneficiaries: beneficiaries }, {
          'X-Callback-URL': callbackUrl, 'X-Registering-Institution-ID': REGISTERING_INSTITUTION,
        });
      }
    };
    await Promise.all(Array.from({ length: REGISTRATIONS_AT_ONCE }, worker));
  } finally {
    receiver.close();
  }
}

/** Writes the batch file row by row and answers its control sums (count, total in exact minor units). */
export async function writeBatchFile(file: string, count: number, row: (index: number) => { functionalId: string; amount: string; currency: string }): Promise<{ count: number; total: string }> {
  const out = createWriteStream(file);
  out.write('id,request_id,payment_mode,payer_identifier_type,payer_identifier,payee_identifier_type,payee_identifier,amount,currency,note\n');
  let totalMinor = 0n;
  for (let index = 0; index < count; index += 1) {
    const { functionalId, amount, currency } = row(index);
    const [whole, fraction = ''] = amount.split('.');
    totalMinor += BigInt(whole!) * 100n + BigInt(fraction.padEnd(2, '0'));
    if (!out.write(`${index + 1},PAY${index},,,,FUNCTIONAL_ID,${functionalId},${amount},${currency},bench grant\n`)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  const cents = totalMinor.toString().padStart(3, '0');
  return { count, total: `${cents.slice(0, -2)}.${cents.slice(-2)}` };
}
