import { createServer, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SimulatorServer {
  /** Base URL, e.g. `http://127.0.0.1:40123`, without a trailing slash. */
  readonly url: string;
  /** Stops listening and ends every connection at once, requests held open included. */
  stop(): Promise<void>;
}

/** Serves a rail simulator on loopback; port 0 picks a free port. */
export async function startSimulatorServer(handler: RequestListener, options: { port?: number; host: string; keepAliveTimeoutMs?: number }): Promise<SimulatorServer> {
  const server = createServer(handler);
  if (options.keepAliveTimeoutMs !== undefined) server.keepAliveTimeout = options.keepAliveTimeoutMs;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  let stopped: Promise<void> | undefined;
  return {
    url: `http://${host}:${address.port}`,
    stop() {
      stopped ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return stopped;
    },
  };
}
