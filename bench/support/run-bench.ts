/**
 * Runs a benchmark: its measurement and report answer the problems found (a target missed is printed, not a
 * problem; a payment executed twice is). Any problem, or a failure, makes the exit code 1.
 */
export async function runBench(name: string, measureAndReport: () => Promise<readonly string[]>): Promise<void> {
  try {
    const problems = await measureAndReport();
    for (const problem of problems) console.error(`  PROBLEM: ${problem}`);
    process.exitCode = problems.length === 0 ? 0 : 1;
  } catch (error) {
    console.error(`\n${name} failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  }
}
