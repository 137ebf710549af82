/**
 * The real D1 and KV bindings, wrapped: to make one chosen storage call fail (FaultyStorage), or
 * to hold requests right after a chosen D1 call (d1PausingAfter, d1PausingAfterRead, Barrier) so
 * that races run the same way every time.
 */
import { env } from 'cloudflare:test'
import { BASE_URL, callAppWith } from './requests'

/** The D1 calls that reach storage; prepare and bind only build a statement locally. */
type D1Call = 'first' | 'run' | 'all' | 'raw' | 'batch' | 'exec'

const STATEMENT_CALLS = new Set<string>(['first', 'run', 'all', 'raw'])
const KV_CALLS = new Set(['get', 'getWithMetadata', 'put', 'delete', 'list'])
const SECURITY_EVENT_WRITE = /\bINSERT INTO security_events\b/

const passThrough = (target: object, prop: string | symbol): unknown => {
  const value: unknown = Reflect.get(target, prop, target)
  return typeof value === 'function' ? value.bind(target) : value
}

/**
 * The real D1 binding, with every call that reaches storage handed to `around` with the SQL it
 * runs (a batch: that of its statements) and a `proceed` that makes the real call.
 */
const interceptD1 = (
  db: D1Database,
  around: (call: D1Call, sql: string[], proceed: () => Promise<unknown>) => Promise<unknown>
): D1Database => {
  const originals = new WeakMap<object, { statement: D1PreparedStatement; sql: string }>()
  const wrap = (statement: D1PreparedStatement, sql: string): D1PreparedStatement => {
    const wrapped = new Proxy(statement, {
      get(target, prop) {
        if (prop === 'bind') return (...values: unknown[]) => wrap(target.bind(...values), sql)
        if (typeof prop === 'string' && STATEMENT_CALLS.has(prop)) {
          const call = Reflect.get(target, prop) as (...args: unknown[]) => Promise<unknown>
          return (...args: unknown[]) =>
            around(prop as D1Call, [sql], () => call.apply(target, args))
        }
        return passThrough(target, prop)
      },
    })
    originals.set(wrapped, { statement, sql })
    return wrapped
  }
  return new Proxy(db, {
    get(target, prop) {
      if (prop === 'prepare') return (sql: string) => wrap(target.prepare(sql), sql)
      if (prop === 'batch') {
        return (statements: D1PreparedStatement[]) => {
          const known = statements.map((statement) => originals.get(statement))
          return around(
            'batch',
            known.flatMap((entry) => (entry ? [entry.sql] : [])),
            () => target.batch(statements.map((s, i) => known[i]?.statement ?? s))
          )
        }
      }
      if (prop === 'exec') return (sql: string) => around('exec', [sql], () => target.exec(sql))
      return passThrough(target, prop)
    },
  })
}

/**
 * Wraps the real D1 binding so that every statement whose SQL matches `pattern` (a SELECT, an
 * upsert, anything, alone or in a batch) calls `afterCall` once D1 has answered and before the
 * worker sees the answer: whatever the implementation's SQL, a request can be held right after
 * it touched a table.
 */
export const d1PausingAfter = (
  db: D1Database,
  pattern: RegExp,
  afterCall: () => Promise<void>
): D1Database =>
  interceptD1(db, async (call, sql, proceed) => {
    const answer = await proceed()
    if (call !== 'exec' && sql.some((text) => pattern.test(text))) await afterCall()
    return answer
  })

/**
 * Wraps the real D1 binding so that every `first()` reading `table` calls `afterRead` once its
 * row has arrived and before the worker sees it: a place to hold a request at a chosen point.
 */
export const d1PausingAfterRead = (
  db: D1Database,
  table: 'users' | 'sessions' | 'one_time_tokens',
  afterRead: () => Promise<void>
): D1Database => {
  const reads = new RegExp(`\\bFROM ${table}\\b`)
  return interceptD1(db, async (call, sql, proceed) => {
    const answer = await proceed()
    if (call === 'first' && reads.test(sql[0])) await afterRead()
    return answer
  })
}

/**
 * A meeting point for `expected` requests: each `arrive()` waits until `release()`; `allArrived`
 * settles once every expected request is waiting, so the test knows where all of them stand.
 */
export class Barrier {
  private arrivedCount = 0
  private markAllArrived!: () => void
  private markReleased!: () => void
  readonly allArrived: Promise<void>
  private readonly released: Promise<void>

  constructor(private readonly expected: number) {
    this.allArrived = new Promise((resolve) => (this.markAllArrived = resolve))
    this.released = new Promise((resolve) => (this.markReleased = resolve))
  }

  get arrived(): number {
    return this.arrivedCount
  }

  async arrive(): Promise<void> {
    this.arrivedCount += 1
    if (this.arrivedCount === this.expected) this.markAllArrived()
    await this.released
  }

  release(): void {
    this.markReleased()
  }

  /** A barrier that lets everyone go once all `expected` requests wait there. */
  static releasedWhenFull(expected: number): Barrier {
    const barrier = new Barrier(expected)
    void barrier.allArrived.then(() => {
      barrier.release()
    })
    return barrier
  }
}

/**
 * How the chosen call fails. `before`: it never reaches storage. `after`: it lands, then its
 * answer is lost (a timeout after commit). `hang`: it never settles.
 */
export type FaultMode = 'before' | 'after' | 'hang'

export interface FaultPlan {
  /** 1-based position, among the request's storage calls, of the one that fails. */
  failAt?: number
  mode?: FaultMode
}

/** The test pool's env with D1 and KV wrapped: one chosen call fails, every call is recorded. */
export class FaultyStorage {
  /** Every storage call made through the wrapped bindings, in order, e.g. `d1.batch`, `kv.put`. */
  readonly calls: string[] = []
  /** For each call, whether it only reads (so losing its answer after it landed changes nothing). */
  readonly reads: boolean[] = []
  /**
   * For each call, how many round trips deep it sits: one more than the deepest call that had
   * settled when it started. Calls made together (Promise.all) share a depth, so the largest
   * depth is the number of round trips a client waits through one after another.
   */
  readonly depths: number[] = []
  /**
   * For each call, whether it is a security-event write: recorded through waitUntil, it runs
   * alongside the response and never decides it, so it is no round trip a client waits for.
   */
  readonly background: boolean[] = []
  /** KV keys written through the wrapped binding, whether or not the write was then "lost". */
  readonly kvKeysWritten: string[] = []
  readonly env: Cloudflare.Env
  /** Settles once the chosen call has been reached. */
  readonly reached: Promise<void>
  private markReached!: () => void
  private settledDepth = 0

  constructor(private readonly plan: FaultPlan = {}) {
    this.reached = new Promise((resolve) => (this.markReached = resolve))
    const wrapD1 = (db: D1Database) =>
      interceptD1(db, (call, sql, proceed) =>
        this.intercept(
          `d1.${call}`,
          STATEMENT_CALLS.has(call) && /^\s*select\b/i.test(sql[0]),
          proceed,
          sql.some((text) => SECURITY_EVENT_WRITE.test(text))
        )
      )
    this.env = {
      ...env,
      DB: wrapD1(env.DB),
      // Shards 1 and 2 of the sharded test project: their calls count in the same sequence.
      DB_1: wrapD1(env.DB_1),
      DB_2: wrapD1(env.DB_2),
      REFRESH_TOKENS: this.wrapKv(env.REFRESH_TOKENS),
    }
  }

  /** Round trips in sequence: what a client far from storage waits for, each at a full RTT. */
  get sequentialRoundTrips(): number {
    return Math.max(0, ...this.depths.filter((_, index) => !this.background[index]))
  }

  /** The calls the client waits for. */
  get callsBeforeResponse(): string[] {
    return this.calls.filter((_, index) => !this.background[index])
  }

  /** The security-event writes: after the response (waitUntil), no client waits for them. */
  get callsAfterResponse(): string[] {
    return this.calls.filter((_, index) => this.background[index])
  }

  /** Whether the failed call was a security-event write, which cannot change the answer. */
  get failedAfterResponse(): boolean {
    const { failAt } = this.plan
    return failAt !== undefined && Boolean(this.background.at(failAt - 1))
  }

  /** The name of the call that failed, if one did. */
  get failedCall(): string | undefined {
    return this.plan.failAt === undefined ? undefined : this.calls[this.plan.failAt - 1]
  }

  fetch(path: string, init: RequestInit = {}): Promise<Response> {
    return this.fetchRequest(new Request(`${BASE_URL}${path}`, init))
  }

  fetchRequest(request: Request): Promise<Response> {
    return callAppWith(this.env, request)
  }

  private intercept<T>(
    name: string,
    read: boolean,
    call: () => Promise<T>,
    background = false
  ): Promise<T> {
    this.calls.push(name)
    this.reads.push(read)
    this.background.push(background)
    const depth = this.settledDepth + 1
    this.depths.push(depth)
    const settle = () => {
      if (!background) this.settledDepth = Math.max(this.settledDepth, depth)
    }
    if (this.calls.length !== this.plan.failAt) return call().finally(settle)
    this.markReached()
    const injected = new Error(`injected failure of ${name}`)
    switch (this.plan.mode ?? 'before') {
      case 'before':
        return Promise.reject(injected)
      case 'after':
        return call().then(() => Promise.reject(injected))
      case 'hang':
        return new Promise<never>(() => {})
    }
  }

  private wrapKv(kv: KVNamespace): KVNamespace {
    return new Proxy(kv, {
      get: (target, property) => {
        const value = Reflect.get(target, property)
        if (
          typeof property !== 'string' ||
          !KV_CALLS.has(property) ||
          typeof value !== 'function'
        ) {
          return typeof value === 'function' ? value.bind(target) : value
        }
        return (...args: unknown[]) => {
          if (property === 'put') this.kvKeysWritten.push(String(args[0]))
          const read = property !== 'put' && property !== 'delete'
          return this.intercept(`kv.${property}`, read, () => value.apply(target, args))
        }
      },
    })
  }
}

/**
 * The real D1 binding, except that every call whose SQL matches `pattern` (alone or in a batch)
 * fails before it reaches storage: one table out of reach while the rest works.
 */
export const d1FailingOn = (db: D1Database, pattern: RegExp): D1Database =>
  interceptD1(db, (call, sql, proceed) =>
    sql.some((text) => pattern.test(text))
      ? Promise.reject(new Error(`injected failure of d1.${call}`))
      : proceed()
  )
