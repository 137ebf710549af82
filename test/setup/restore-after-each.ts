// Whatever a test fakes or spies on ends with it: the real clock and timers, the real functions.
import { afterEach, vi } from 'vitest'

afterEach(() => {
  vi.useRealTimers()
  vi.restoreAllMocks()
})
