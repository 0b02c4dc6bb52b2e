import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startSandboxSimulator, type SandboxSimulator } from '../../adapters/sandbox/simulator.ts';
import { apiClient, benefitOrder } from '../support/http.ts';
import { eventually, startTestKassa, type TestKassa } from '../support/kassa.ts';

const SANDBOX_ADAPTER = fileURLToPath(new URL('../../adapters/sandbox/index.ts', import.meta.url));
const SECOND_RAIL_MODULE = `
import { SandboxRailAdapter, SandboxRailOptionsSchema } from ${JSON.stringify(SANDBOX_ADAPTER)};
class SecondRailAdapter extends SandboxRailAdapter { readonly id = 'second-rail'; }
export const rail = { id: 'second-rail', optionsSchema: SandboxRailOptionsSchema, create: (options) => new SecondRailAdapter(options) };
`;

const fee = (reference: string) => ({
  kind: 'fee',
  amount: '20.00',
  currency: 'KES',
  payer: { type: 'msisdn', value: '+254733445566' },
  payee: { type: 'bank_account', value: '0011223344' },
  reference,
});

describe('fail-over to a second rail while the first one is down', () => {
  let folder: string;
  let second: SandboxSimulator;
  let kassa: TestKassa;
  let api: ReturnType<typeof apiClient>;

  before(async () => {
    folder = mkdtempSync(path.join(tmpdir(), 'kassa-second-rail-'));
    writeFileSync(path.join(folder, 'second-rail.ts'), SECOND_RAIL_MODULE);
    second = await startSandboxSimulator();
    kassa = await startTestKassa({
      backend: 'postgres',
      env: {
        RAIL_PACKAGES: path.join(folder, 'second-rail.ts'),
        RAILS: 'sandbox,second-rail',
        RAIL_ROUTES: JSON.stringify([{ rail: 'sandbox', fallback: 'second-rail' }]),
        RAIL_SECOND_RAIL_BASE_URL: second.url,
        CIRCUIT_FAILURE_THRESHOLD: '1',
        CIRCUIT_COOLDOWN_MS: '60000',
      },
    });
    api = apiClient(kassa.url, await kassa.issueKey('revenue', ['fees:write', 'benefits:write', 'orders:read']));
    kassa.simulator.setBehaviour({ mode: 'down' });
    const opener = await api.post('/v1/orders', fee('opens the circuit'), randomUUID());
    assert.equal(opener.status, 201);
    await eventually(async () => ((await kassa.runtime.context.db('rail_circuits').where({ rail: 'sandbox', state: 'open' }).first()) ? true : undefined), { what: 'the circuit to open' });
  });
  after(async () => {
    await kassa?.stop();
    await second?.close();
    rmSync(folder, { recursive: true, force: true });
  });

  const order = async (id: string) => (await api.get(`/v1/orders/${id}`)).body;

  it('when a fee arrives while the first rail is down, then it is paid through the second rail once, with the move in its timeline', async () => {
    const created = await api.post('/v1/orders', fee('fails over'), randomUUID());
    const done = await eventually(async () => {
      const current = await order(created.body.id);
      return current.status === 'completed' ? current : undefined;
    }, { what: 'the fee to complete on the second rail' });
    assert.equal(done.rail, 'second-rail');
    assert.ok(done.events.some((event: { detail: { rerouted_to?: string } }) => event.detail.rerouted_to === 'second-rail'));
    const railKey = (await kassa.runtime.context.db('orders').where({ id: created.body.id }).first()).rail_key as string;
    assert.equal(second.executions(railKey), 1);
    assert.equal(kassa.simulator.executions(railKey), 0);
  });

  it('when a benefit arrives while the first rail is down, then it waits for that rail: disbursements do not fail over by default', async () => {
    const created = await api.post('/v1/orders', benefitOrder(), randomUUID());
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const current = await order(created.body.id);
    assert.equal(current.rail, 'sandbox');
    assert.ok(['received', 'queued'].includes(current.status), current.status);
  });
});
