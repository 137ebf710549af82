/**
 * Turns a failing or hanging D1 or KV call into one error the app renders as 503, without its
 * internals. The binding is wrapped once (`guardD1Binding`, `guardKVBinding`) where the ports are
 * built, so that adapter code calls D1 and KV plainly and no call can forget the guard.
 */
import { DependencyUnavailable, UniqueViolation } from '../ports'
import { shardOf } from './d1/shards'

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

type D1Reader = Pick<D1Database, 'prepare' | 'batch'>

/**
 * A statement as adapters build it, prepared on its database only when it runs: in a sharded
 * deployment its bound values name that database (./d1/shards.ts). prepare() and bind() stay
 * local, as D1's do; a binding that throws in prepare() is an outage like any other.
 */
interface Pending {
  sql: string
  args: unknown[]
}

const guardReader = (database: (args: unknown[]) => D1Reader, timeoutMs: number) => {
  const statement = (sql: string, args: unknown[]) => {
    const call =
      (name: string) =>
      (...a: unknown[]) =>
        guardD1(() => {
          const prepared = database(args)
            .prepare(sql)
            .bind(...args)
          return (prepared as unknown as Record<string, (...b: unknown[]) => Promise<unknown>>)[
            name
          ](...a)
        }, timeoutMs)
    const pending: Pending & Record<string, unknown> = {
      sql,
      args,
      bind: (...values: unknown[]) => statement(sql, values),
      first: call('first'),
      run: call('run'),
      all: call('all'),
    }
    return pending as unknown as D1PreparedStatement
  }
  return {
    prepare: (sql: string) => statement(sql, []),
    // One transaction on one database: the first value that names a shard names it for all.
    batch: <T>(statements: D1PreparedStatement[]) =>
      guardD1(() => {
        const list = statements as unknown as Pending[]
        const db = database(list.flatMap((s) => s.args))
        return db.batch<T>(list.map((s) => db.prepare(s.sql).bind(...s.args)))
      }, timeoutMs),
  }
}

/**
 * The D1 binding with every call bounded and every failure an outage (503), a UNIQUE collision
 * excepted (UniqueViolation, a domain outcome). Statements keep their D1 types, so adapters read
 * as plain D1 code; what no adapter calls (exec, raw, bookmarks) is left out. Given several
 * databases (DB_SHARDS), each statement runs on the one its bound values name; one database is
 * today's binding exactly.
 */
export const guardD1Binding = (
  databases: D1Database | D1Database[],
  timeoutMs: number = STORAGE_TIMEOUT_MS
): D1Database => {
  const shards = [databases].flat()
  const on = (args: unknown[]) => shards[shards.length > 1 ? shardOf(args, shards.length) : 0]
  const guarded = {
    ...guardReader(on, timeoutMs),
    // A session per statement: its one caller (the replica session check) runs one query.
    withSession: (constraint?: string) =>
      guardReader((args) => on(args).withSession(constraint), timeoutMs),
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
