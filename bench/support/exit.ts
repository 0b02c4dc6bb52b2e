import type { ChildProcess } from 'node:child_process';

/** Sends SIGTERM and waits for the exit (SIGKILL after `graceMs`); answers how it ended: an exit code or a signal name. */
export async function terminate(child: ChildProcess, graceMs: number): Promise<number | string> {
  const ended = () => child.exitCode ?? child.signalCode!;
  if (child.exitCode !== null || child.signalCode !== null) return ended();
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
  return ended();
}
