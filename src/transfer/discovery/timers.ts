/** Timers as a dependency, so announce schedules are tested by hand instead of by waiting. */
export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown
  clearTimeout(handle: unknown): void
}

/** The real ones, unref'd: a pending re-announce never keeps the process alive. */
export const REAL_TIMERS: Timers = {
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms)
    t.unref()
    return t
  },
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout)
}
