import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../../src/db/embedded-postgres.ts';
import { freePort } from './ports.ts';

/**
 * One real PostgreSQL for the whole run (TEST_DATABASE_URL, or an embedded one in a temporary folder);
 * each suite then creates a database of its own in it.
 */
let embedded: EmbeddedDatabase | undefined;
let dataDir: string | undefined;

export async function mochaGlobalSetup(): Promise<void> {
  if (process.env.TEST_DATABASE_URL) return;
  dataDir = mkdtempSync(path.join(tmpdir(), 'kassa-test-'));
  chmodSync(dataDir, 0o755);
  embedded = await startEmbeddedPostgres({ dataDir, port: await freePort(), database: 'postgres' });
  process.env.TEST_DATABASE_URL = embedded.url;
}

export async function mochaGlobalTeardown(): Promise<void> {
  await embedded?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
}
