import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadRailPackages } from '../../adapters/packages.ts';
import { startSandboxSimulator, type SandboxSimulator } from '../../adapters/sandbox/simulator.ts';
import { ConfigError } from '../../src/config/index.ts';
import { apiClient, benefitOrder } from '../support/http.ts';
import { eventually, startTestKassa, type TestKassa } from '../support/kassa.ts';

const SANDBOX_ADAPTER = fileURLToPath(new URL('../../adapters/sandbox/index.ts', import.meta.url));

/** A rail as a third party would publish it: its own module exporting `rail`, loaded by name from configuration. */
const PARTNER_RAIL_MODULE = `
import { SandboxRailAdapter, SandboxRailOptionsSchema } from ${JSON.stringify(SANDBOX_ADAPTER)};
class PartnerBankAdapter extends SandboxRailAdapter { readonly id = 'partner-bank'; }
export const rail = {
  id: 'partner-bank',
  optionsSchema: SandboxRailOptionsSchema,
  create: (options) => new PartnerBankAdapter(options),
};
`;

describe('rails published as their own packages', () => {
  let folder: string;
  let modulePath: string;
  let partner: SandboxSimulator;
  let kassa: TestKassa;

  before(async () => {
    folder = mkdtempSync(path.join(tmpdir(), 'kassa-rail-package-'));
    modulePath = path.join(folder, 'partner-bank-rail.ts');
    writeFileSync(modulePath, PARTNER_RAIL_MODULE);
    partner = await startSandboxSimulator();
    kassa = await startTestKassa({
      backend: 'postgres',
      env: { RAIL_PACKAGES: modulePath, RAILS: 'partner-bank', RAIL_PARTNER_BANK_BASE_URL: partner.url },
    });
  });
  after(async () => {
    await kassa?.stop();
    await partner?.close();
    rmSync(folder, { recursive: true, force: true });
  });

  it('when a package named in RAIL_PACKAGES is switched on in RAILS, then orders route to it and it executes them', async () => {
    const api = apiClient(kassa.url, await kassa.issueKey('treasury', ['benefits:write', 'orders:read']));
    const created = await api.post('/v1/orders', benefitOrder(), randomUUID());
    assert.equal(created.body.rail, 'partner-bank');
    await eventually(async () => ((await api.get(`/v1/orders/${created.body.id}`)).body.status === 'completed' ? true : undefined), { what: 'the order to complete' });
    const railKey = (await kassa.runtime.context.db('orders').where({ id: created.body.id }).first()).rail_key as string;
    assert.equal(partner.executions(railKey), 1);
  });

  it('when a named package cannot be loaded or exports no rail, then start-up stops with a configuration error naming it', async () => {
    await assert.rejects(loadRailPackages(['kassa-rail-that-does-not-exist']), (error: unknown) => error instanceof ConfigError && /kassa-rail-that-does-not-exist/.test(error.message));
    const empty = path.join(folder, 'not-a-rail.ts');
    writeFileSync(empty, 'export const something = 1;\n');
    await assert.rejects(loadRailPackages([empty]), /exports no rail definition/);
  });
});
