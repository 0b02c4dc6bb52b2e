import { parentPort, workerData } from 'node:worker_threads';
import { startSandboxSimulator } from './simulator.ts';
import { CLOSE_SIMULATOR, SIMULATOR_LISTENING, type ThreadData } from './simulator-thread.ts';

const { port } = workerData as ThreadData;
const simulator = await startSandboxSimulator({ port });
parentPort!.on('message', (message) => {
  if (message !== CLOSE_SIMULATOR) return;
  void simulator.close().then(() => parentPort!.close());
});
parentPort!.postMessage({ type: SIMULATOR_LISTENING, url: simulator.url });
