/** The one source of time, so that tests can move it with `vi.setSystemTime`. */

export const nowMs = (): number => Date.now()

export const nowSeconds = (): number => Math.floor(Date.now() / 1000)

export const isoFromSeconds = (seconds: number): string => new Date(seconds * 1000).toISOString()

export const isoNow = (): string => new Date(nowMs()).toISOString()
