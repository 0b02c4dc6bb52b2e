import { Worker } from 'node:worker_threads';

export interface SandboxSimulatorThread {
  readonly url: string;
  close(): Promise<void>;
}

export interface ThreadData {
  readonly loader: string;
  readonly entry: string;
  readonly port: number;
}

export const SIMULATOR_LISTENING = 'kassa:simulator-listening';
export const CLOSE_SIMULATOR = 'kassa:close-simulator';

// Threads do not inherit the TypeScript loader Kassa registers at start, so the thread registers it first.
const BOOT = `
const { workerData } = require('node:worker_threads');
import(workerData.loader).then(({ register }) => { register(); return import(workerData.entry); });
`;

/**
 * The sandbox simulator on a thread of its own, as `kassa start` runs it: it stands for a rail that runs
 * elsewhere, and answering a chunk of a thousand payments must not hold up the API's answers on the main
 * thread's event loop.
 */
export function startSandboxSimulatorThread(options: { port: number }): Promise<SandboxSimulatorThread> {
  const workerData: ThreadData = {
    loader: import.meta.resolve('tsx/esm/api'),
    entry: new URL('./simulator-thread-entry.ts', import.meta.url).href,
    port: options.port,
  };
  const thread = new Worker(BOOT, { eval: true, workerData });
  return new Promise((resolve, reject) => {
    const failed = (error: Error) => {
      thread.off('exit', ended);
      reject(error);
    };
    const ended = (code: number) => {
      thread.off('error', failed);
      reject(new Error(`the sandbox simulator thread ended (exit code ${code}) before it listened`));
    };
    thread.once('error', failed);
    thread.once('exit', ended);
    thread.on('message', (message: { type: string; url: string }) => {
      if (message.type !== SIMULATOR_LISTENING) return;
      thread.off('error', failed);
      thread.off('exit', ended);
      resolve({ url: message.url, close: () => closeThread(thread) });
    });
  });
}

async function closeThread(thread: Worker): Promise<void> {
  const exited = new Promise((resolve) => thread.once('exit', resolve));
  thread.postMessage(CLOSE_SIMULATOR);
  await exited;
}
