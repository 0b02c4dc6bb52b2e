import { spawn, spawnSync } from 'node:child_process';
import { Redis } from 'ioredis';
import { terminate } from './exit.ts';
import { freePort } from './ports.ts';

export interface RedisServer {
  readonly url: string;
  readonly pid: number;
  stop(): Promise<void>;
}

export const REDIS_INSTALL_HINT = 'redis-server is not installed; on Debian/Ubuntu: `sudo apt-get update && sudo apt-get install -y redis-server`';

export function redisServerInstalled(): boolean {
  return !spawnSync('redis-server', ['--version']).error;
}

/** A private, throw-away redis-server: no persistence (the benchmark measures Kassa, not fsync), noeviction as production needs. */
export async function startRedisServer(): Promise<RedisServer> {
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--maxmemory-policy', 'noeviction'], { stdio: 'ignore' });
  const url = `redis://127.0.0.1:${port}`;
  await waitForPing(url);
  return { url, pid: child.pid!, stop: async () => void (await terminate(child, 10_000)) };
}

async function waitForPing(url: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    client.on('error', () => undefined); // refusals until the server listens are expected; connect() rejects too
    try {
      await client.connect();
      await client.ping();
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 50));
    } finally {
      client.disconnect();
    }
  }
  throw new Error(`redis-server did not answer at ${url}`);
}
