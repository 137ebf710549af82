/** Turns a failing or hanging D1 or KV call into one error the app renders as 503, without its internals. */

export type Dependency = 'D1' | 'KV'

export class DependencyUnavailable extends Error {
  readonly dependency: Dependency

  constructor(dependency: Dependency, cause: unknown) {
    super(`${dependency} is unavailable`, { cause })
    this.name = 'DependencyUnavailable'
    this.dependency = dependency
  }
}

/** A write that collided with a UNIQUE constraint: a domain outcome, not an outage. */
export class UniqueViolation extends Error {
  constructor(cause: unknown) {
    super('unique constraint violated', { cause })
    this.name = 'UniqueViolation'
  }
}

const isUniqueViolation = (error: unknown): boolean =>
  error instanceof Error && /UNIQUE constraint failed/i.test(error.message)

/**
 * How long one D1 or KV call may take before the request answers 503. D1 lets a query run for
 * 30 s and a Worker has no wall-clock limit while its client waits, so without a bound a hung
 * dependency holds every caller until the client gives up. An abandoned call may still land
 * later; the order of writes (docs/sessions.md) makes a late landing as harmless as a lost
 * response.
 */
export const STORAGE_TIMEOUT_MS = 5_000

class StorageTimeout extends Error {
  constructor() {
    super(`no answer within ${STORAGE_TIMEOUT_MS} ms`)
    this.name = 'StorageTimeout'
  }
}

const withinDeadline = async <T>(operation: () => Promise<T>): Promise<T> => {
  let timer: ReturnType<typeof setTimeout> | null = null
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new StorageTimeout())
    }, STORAGE_TIMEOUT_MS)
  })
  try {
    // Called inside the try, so that a synchronous throw is an outage like any other.
    return await Promise.race([operation(), deadline])
  } finally {
    clearTimeout(timer)
  }
}

export const guardD1 = async <T>(operation: () => Promise<T>): Promise<T> => {
  try {
    return await withinDeadline(operation)
  } catch (error) {
    if (isUniqueViolation(error)) throw new UniqueViolation(error)
    throw new DependencyUnavailable('D1', error)
  }
}

export const guardKV = async <T>(operation: () => Promise<T>): Promise<T> => {
  try {
    return await withinDeadline(operation)
  } catch (error) {
    throw new DependencyUnavailable('KV', error)
  }
}
