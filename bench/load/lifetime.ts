/**
 * A bench script's cleanups: `defer` registers one, `runBench` runs `main` and then every
 * cleanup in reverse order (a failing one does not stop the rest), and exits: the stack's
 * clients keep no reason to linger once the numbers are printed.
 */
const cleanups: Array<() => unknown> = [];

export const defer = (fn: () => unknown): void => void cleanups.push(fn);

export async function runBench(main: () => Promise<void>): Promise<never> {
  try {
    await main();
  } finally {
    while (cleanups.length > 0) await Promise.resolve(cleanups.pop()!()).catch(() => undefined);
  }
  process.exit(0);
}
