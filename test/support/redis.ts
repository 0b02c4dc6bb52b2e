import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import { freePort } from './ports.ts';

export interface TestRedis {
  readonly url: string;
  flushAll(): Promise<void>;
  stop(): Promise<void>;
}

const INSTALL_HINT = 'redis-server is not installed: the Redis queue backend tests need it. On Debian/Ubuntu: `sudo apt-get update && sudo apt-get install -y redis-server` (or set TEST_REDIS_URL to a Redis you run).';

/** A private redis-server on a free port, configured as production needs it (noeviction). */
export async function startRedis(): Promise<TestRedis> {
  if (process.env.TEST_REDIS_URL) return connectOnly(process.env.TEST_REDIS_URL);
  if (spawnSync('redis-server', ['--version']).error) throw new Error(INSTALL_HINT);
  const port = await freePort();
  const child: ChildProcess = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--maxmemory-policy', 'noeviction'], { stdio: 'ignore' });
  const url = `redis://127.0.0.1:${port}`;
  await waitForRedis(url);
  const redis = await connectOnly(url);
  return {
    url,
    flushAll: redis.flushAll,
    async stop() {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

async function connectOnly(url: string): Promise<TestRedis> {
  return {
    url,
    async flushAll() {
      const client = new Redis(url);
      await client.flushall();
      client.disconnect();
    },
    stop: async () => undefined,
  };
}

async function waitForRedis(url: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    // Refused connections are expected until the server listens; connect() reports them.
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.ping();
      client.disconnect();
      return;
    } catch {
      client.disconnect();
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  throw new Error(`redis-server did not start at ${url}`);
}
