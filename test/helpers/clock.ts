/**
 * The one way tests move time. The worker runs in the test's isolate and reads Date (src/clock.ts),
 * so a fake Date here is the worker's clock too. test/setup/restore-after-each.ts puts the real
 * clock back after every test, so a test never has to.
 */
import { vi } from 'vitest'

/**
 * Stops the clock at `at` (by default now, rounded down to a whole second so that "N seconds
 * later" is N seconds on the worker's clock, which counts in seconds) and returns that instant
 * in milliseconds. Only Date is faked: timers keep running.
 */
export const pinClock = (at: number | Date = Math.floor(Date.now() / 1000) * 1000): number => {
  vi.useFakeTimers({ toFake: ['Date'] })
  vi.setSystemTime(at)
  return new Date(at).getTime()
}

/** Moves a pinned clock to an instant, in milliseconds. */
export const setClock = (at: number): void => {
  vi.setSystemTime(at)
}

/** Moves a pinned clock forward by a number of seconds. */
export const advanceClock = (seconds: number): void => {
  vi.setSystemTime(Date.now() + seconds * 1000)
}

/** Fakes setTimeout and clearTimeout only (Date keeps running), for tests that wait out a timer. */
export const fakeTimeouts = (): void => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
}

/** Runs the faked timers due within `ms`, letting the promises they settle run too. */
export const advanceTimeouts = async (ms: number): Promise<void> => {
  await vi.advanceTimersByTimeAsync(ms)
}
