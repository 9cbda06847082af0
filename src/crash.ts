/**
 * Crash points for tests: `CHRYSALIS_TEST_CRASH_AT=STEP` makes the process SIGKILL itself when it
 * reaches STEP, so a test can stop a multi-step write (init) at each step in turn, deterministically,
 * instead of killing it after a guessed delay. Without the variable this does nothing.
 */
export function crashPoint(step: string): void {
  if (process.env.CHRYSALIS_TEST_CRASH_AT === step) process.kill(process.pid, 'SIGKILL')
}
