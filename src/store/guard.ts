/** Turns a failing D1 or KV call into one error the app renders as 503, without its internals. */

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

export const guardD1 = async <T>(operation: () => Promise<T>): Promise<T> => {
  try {
    return await operation()
  } catch (error) {
    if (isUniqueViolation(error)) throw new UniqueViolation(error)
    throw new DependencyUnavailable('D1', error)
  }
}

export const guardKV = async <T>(operation: () => Promise<T>): Promise<T> => {
  try {
    return await operation()
  } catch (error) {
    throw new DependencyUnavailable('KV', error)
  }
}
