import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ServiceContext } from '../services/context.ts';
import { createApi } from './app.ts';

/** How long requests in progress may take to finish once the API is told to stop. */
const STOP_GRACE_MS = 10_000;

export interface ApiServer {
  readonly url: string;
  stop(): Promise<void>;
}

/** Starts the HTTP API; port 0 picks a free port, which is how the tests run it in-process. */
export async function start(context: ServiceContext, options: { host: string; port: number; publicUrl?: string }): Promise<ApiServer> {
  let url = options.publicUrl ?? '';
  const server: Server = createServer(createApi(context, () => url));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.keepAliveTimeout = 65_000;
  // Once stopping, every answer closes its connection, so busy keep-alive clients do not hold the stop.
  let stopping = false;
  server.on('request', (_req, res: ServerResponse) => {
    if (stopping) res.shouldKeepAlive = false;
  });
  const address = server.address() as AddressInfo;
  if (!options.publicUrl) url = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
  return {
    url,
    stop: () =>
      new Promise<void>((resolve, reject) => {
        stopping = true;
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeIdleConnections();
        setTimeout(() => server.closeAllConnections(), STOP_GRACE_MS).unref();
      }),
  };
}
