import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { terminate } from './exit.ts';
import { freePort } from './ports.ts';

export interface KassaProcess {
  readonly url: string;
  readonly apiKey: string;
  readonly databaseUrl: string;
  readonly pid: number;
  stop(): Promise<void>;
}

const KASSA_BIN = fileURLToPath(new URL('../../bin/kassa.js', import.meta.url));
const STARTUP_TIMEOUT_MS = 180_000;
// Settings that would point the child away from its own embedded database, simulator or queue choice.
const INHERITED_OVERRIDES = ['DATABASE_URL', 'REDIS_URL', 'SANDBOX_RAIL_URL', 'PUBLIC_URL', 'HOST', 'KASSA_DATA_DIR'];

export interface KassaOptions {
  readonly redisUrl?: string;
  readonly profileDir?: string;
  /** Settings for this run (rails, routes, chunk size…), applied over the bench's own. */
  readonly env?: Readonly<Record<string, string>>;
}

/** `kassa start` in a child process, as a user runs it, on free ports and a fresh data folder. */
export async function startKassa(options: KassaOptions): Promise<KassaProcess> {
  const dataDir = freshDataDir();
  const postgresPort = await freePort();
  const env = { ...inheritedEnv(), ...(await kassaEnv(dataDir, postgresPort)), ...(options.redisUrl ? { REDIS_URL: options.redisUrl } : {}), ...options.env };
  const profiling = options.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${options.profileDir}`] : [];
  const child = spawn(process.execPath, [...profiling, KASSA_BIN, 'start'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const stop = async () => {
    const ended = await terminate(child, 60_000);
    if (ended !== 0) console.error(`kassa start ended with ${typeof ended === 'number' ? `exit code ${ended}` : ended} after SIGTERM (expected exit code 0)`);
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    const banner = await readBanner(child);
    return { ...banner, databaseUrl: `postgres://kassa:kassa@127.0.0.1:${postgresPort}/kassa`, pid: child.pid!, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** The embedded PostgreSQL runs as the `postgres` user when Kassa runs as root, so it must be able to enter the folder. */
function freshDataDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'kassa-bench-'));
  chmodSync(dir, 0o755);
  return dir;
}

function inheritedEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of INHERITED_OVERRIDES) delete env[name];
  return env;
}

async function kassaEnv(dataDir: string, postgresPort: number): Promise<Record<string, string>> {
  return {
    PORT: String(await freePort()),
    SANDBOX_SIMULATOR_PORT: String(await freePort()),
    EMBEDDED_POSTGRES_PORT: String(postgresPort),
    KASSA_DATA_DIR: dataDir,
    LOG_LEVEL: 'warn',
    DEMO_CREDENTIAL: 'true',
    RATE_LIMIT_PER_MINUTE: '1000000000',
  };
}

/** Waits for runStart's banner, then passes whatever else the child prints through to stderr. */
function readBanner(child: ChildProcess): Promise<{ url: string; apiKey: string }> {
  return new Promise((resolve, reject) => {
    const stdout = createInterface({ input: child.stdout! });
    const seen: string[] = [];
    let url: string | undefined;
    const timer = setTimeout(() => fail(new Error(`kassa start printed no banner within ${STARTUP_TIMEOUT_MS / 1000} s`)), STARTUP_TIMEOUT_MS);
    const onExit = (code: number | null, signal: string | null) => fail(new Error(`kassa start exited (${signal ?? code}) before it was ready:\n${seen.join('\n')}`));
    const onLine = (line: string) => {
      seen.push(line);
      url ??= /Kassa is running at (\S+)/.exec(line)?.[1];
      const apiKey = /demo credential \(.*\): (\S+)/.exec(line)?.[1];
      if (!url || !apiKey) return;
      settle();
      stdout.on('line', passThrough);
      resolve({ url, apiKey });
    };
    const settle = () => {
      clearTimeout(timer);
      child.off('exit', onExit);
      stdout.off('line', onLine);
    };
    function fail(error: Error) {
      settle();
      reject(error);
    }
    stdout.on('line', onLine);
    createInterface({ input: child.stderr! }).on('line', passThrough);
    child.once('exit', onExit);
  });
}

const MAX_LINE = 300;

/** Kassa's own lines, marked and cut short: an error log can carry a whole serialised pg client. */
function passThrough(line: string): void {
  process.stderr.write(`[kassa] ${line.length > MAX_LINE ? `${line.slice(0, MAX_LINE)}…` : line}\n`);
}
