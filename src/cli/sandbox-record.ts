import { readFileSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sandboxRail } from '../../adapters/sandbox/index.ts';
import { SandboxUnreachable, setSandboxBalance } from '../../adapters/sandbox/simulator.ts';
import type { Config } from '../config/index.ts';
import type { RailBalanceSetter } from '../services/seed-voucher-parties.ts';

/**
 * A running `kassa start` leaves where its sandbox simulator listens in the data folder, as its embedded
 * PostgreSQL's lock file there leaves its port, so that `kassa seed` finds the simulator whatever port it got.
 */
const SANDBOX_RECORD_FILE = 'sandbox-rail.json';

export async function recordSandboxSimulator(dataDir: string, url: string): Promise<void> {
  await mkdir(dataDir, { recursive: true });
  await writeFile(join(dataDir, SANDBOX_RECORD_FILE), JSON.stringify({ pid: process.pid, url }));
}

export async function forgetSandboxSimulator(dataDir: string): Promise<void> {
  if (readSandboxRecord(dataDir)?.pid === process.pid) await rm(join(dataDir, SANDBOX_RECORD_FILE), { force: true });
}

function readSandboxRecord(dataDir: string): { pid: number; url: string } | undefined {
  try {
    const record = JSON.parse(readFileSync(join(dataDir, SANDBOX_RECORD_FILE), 'utf8')) as { pid?: unknown; url?: unknown };
    return typeof record.pid === 'number' && typeof record.url === 'string' ? { pid: record.pid, url: record.url } : undefined;
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The simulator `kassa seed` sets balances on, and how it was found (for a message that says what to change). */
export function seedSandbox(config: Config): { url: string; foundBy: string } {
  const configured = config.railSettings.RAIL_SANDBOX_BASE_URL ?? config.SANDBOX_RAIL_URL;
  if (configured) return { url: configured, foundBy: config.railSettings.RAIL_SANDBOX_BASE_URL ? 'RAIL_SANDBOX_BASE_URL' : 'SANDBOX_RAIL_URL' };
  const record = readSandboxRecord(config.KASSA_DATA_DIR);
  // A record left by a Kassa killed outright names a simulator that is gone with it.
  if (record && record.pid !== process.pid && isAlive(record.pid)) return { url: record.url, foundBy: `the \`kassa start\` running on ${config.KASSA_DATA_DIR}` };
  return { url: `http://127.0.0.1:${config.SANDBOX_SIMULATOR_PORT}`, foundBy: 'SANDBOX_SIMULATOR_PORT, where `kassa start` and `kassa simulator` listen' };
}

/** Once the simulator cannot be reached, the other balances fail at once instead of each waiting to find out. */
export function sandboxBalanceSetter(sandbox: { url: string; foundBy: string }): RailBalanceSetter {
  let unreachable: SandboxUnreachable | undefined;
  return {
    rail: sandboxRail.id,
    async set(account, balance) {
      if (unreachable) throw unreachable;
      try {
        await setSandboxBalance(sandbox.url, account, balance.currency, balance.minor);
      } catch (error) {
        if (!(error instanceof SandboxUnreachable)) throw error;
        unreachable = new SandboxUnreachable(`${error.message}; found by ${sandbox.foundBy}: start Kassa, or set SANDBOX_RAIL_URL to the simulator's address`);
        throw unreachable;
      }
    },
  };
}

