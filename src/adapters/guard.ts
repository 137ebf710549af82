/**
 * Turns a failing or hanging D1 or KV call into one error the app renders as 503, without its
 * internals. The binding is wrapped once (`guardD1Binding`, `guardKVBinding`) where the ports are
 * built, so that adapter code calls D1 and KV plainly and no call can forget the guard.
 */
import { DependencyUnavailable, UniqueViolation } from '../ports'

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
  constructor(timeoutMs: number) {
    super(`no answer within ${timeoutMs} ms`)
    this.name = 'StorageTimeout'
  }
}

/**
 * The operation's outcome, or `failure(error)` for an error or a timeout. One promise per call,
 * not a race of three: every session check and rotation pays this (bench/README.md).
 */
const withinDeadline = <T>(
  operation: () => Promise<T>,
  timeoutMs: number,
  failure: (error: unknown) => Error
): Promise<T> =>
  new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(failure(new StorageTimeout(timeoutMs)))
    }, timeoutMs)
    const fail = (error: unknown) => {
      clearTimeout(timer)
      reject(failure(error))
    }
    try {
      // Called inside the try, so that a synchronous throw is an outage like any other.
      operation().then((value) => {
        clearTimeout(timer)
        resolve(value)
      }, fail)
    } catch (error) {
      fail(error)
    }
  })

const d1Failure = (error: unknown): Error =>
  isUniqueViolation(error) ? new UniqueViolation(error) : new DependencyUnavailable('D1', error)

const kvFailure = (error: unknown): Error => new DependencyUnavailable('KV', error)

const guardD1 = <T>(operation: () => Promise<T>, timeoutMs: number): Promise<T> =>
  withinDeadline(operation, timeoutMs, d1Failure)

const guardKV = <T>(operation: () => Promise<T>, timeoutMs: number): Promise<T> =>
  withinDeadline(operation, timeoutMs, kvFailure)

/** The statements a guarded binding hands out; batch() unwraps them for the real binding. */
const UNWRAPPED = Symbol('unwrapped')

type GuardedStatement = D1PreparedStatement & { [UNWRAPPED]: D1PreparedStatement }

const guardStatement = (statement: D1PreparedStatement, timeoutMs: number): GuardedStatement => {
  const guarded = {
    [UNWRAPPED]: statement,
    bind: (...values: unknown[]) => guardStatement(statement.bind(...values), timeoutMs),
    first: (column?: string) =>
      guardD1(
        () => (column === undefined ? statement.first() : statement.first(column)),
        timeoutMs
      ),
    run: () => guardD1(() => statement.run(), timeoutMs),
    all: () => guardD1(() => statement.all(), timeoutMs),
    raw: (options?: { columnNames?: boolean }) =>
      guardD1(() => statement.raw(options as { columnNames: true }), timeoutMs),
  }
  return guarded as unknown as GuardedStatement
}

const unwrap = (statement: D1PreparedStatement): D1PreparedStatement =>
  (statement as Partial<GuardedStatement>)[UNWRAPPED] ?? statement

type D1Reader = Pick<D1Database, 'prepare' | 'batch'>

const guardReader = (reader: D1Reader, timeoutMs: number) => ({
  prepare: (query: string) => {
    // prepare() itself may throw on a broken binding: an outage like any other.
    try {
      return guardStatement(reader.prepare(query), timeoutMs)
    } catch (error) {
      throw new DependencyUnavailable('D1', error)
    }
  },
  batch: <T>(statements: D1PreparedStatement[]) =>
    guardD1(() => reader.batch<T>(statements.map(unwrap)), timeoutMs),
})

/**
 * The D1 binding with every call bounded and every failure an outage (503), a UNIQUE collision
 * excepted (UniqueViolation, a domain outcome). Statements keep their D1 types, so adapters read
 * as plain D1 code.
 */
export const guardD1Binding = (
  db: D1Database,
  timeoutMs: number = STORAGE_TIMEOUT_MS
): D1Database => {
  const guarded = {
    ...guardReader(db, timeoutMs),
    exec: (query: string) => guardD1(() => db.exec(query), timeoutMs),
    withSession: (constraint?: string) => {
      let session: D1DatabaseSession
      // Like prepare(): a binding that fails here is an outage, not an unexpected 500.
      try {
        session = db.withSession(constraint)
      } catch (error) {
        throw new DependencyUnavailable('D1', error)
      }
      return { ...guardReader(session, timeoutMs), getBookmark: () => session.getBookmark() }
    },
  }
  // Structurally a D1Database (what adapters call); the binding's class is never constructed.
  return guarded as unknown as D1Database
}

/** The KV binding, guarded the same way. */
export const guardKVBinding = (
  kv: KVNamespace,
  timeoutMs: number = STORAGE_TIMEOUT_MS
): KVNamespace => {
  const guarded = {
    get: (...args: unknown[]) =>
      guardKV(() => (kv.get as (...a: unknown[]) => Promise<unknown>)(...args), timeoutMs),
    getWithMetadata: (...args: unknown[]) =>
      guardKV(
        () => (kv.getWithMetadata as (...a: unknown[]) => Promise<unknown>)(...args),
        timeoutMs
      ),
    put: (...args: Parameters<KVNamespace['put']>) => guardKV(() => kv.put(...args), timeoutMs),
    delete: (key: string) => guardKV(() => kv.delete(key), timeoutMs),
    list: (options?: KVNamespaceListOptions) => guardKV(() => kv.list(options), timeoutMs),
  }
  return guarded as unknown as KVNamespace
}
