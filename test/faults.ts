/** Fault injection: the real D1 and KV bindings, wrapped so that one chosen storage call fails. */
import { createExecutionContext, env, waitOnExecutionContext } from 'cloudflare:test'
import { app } from '../src/index'
import { BASE_URL } from './helpers'

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

/** Only calls that reach storage count; prepare and bind build a statement locally. */
const D1_STATEMENT_CALLS = new Set(['first', 'run', 'all', 'raw'])
const D1_DATABASE_CALLS = new Set(['batch', 'exec'])
const KV_CALLS = new Set(['get', 'getWithMetadata', 'put', 'delete', 'list'])

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
  /** KV keys written through the wrapped binding, whether or not the write was then "lost". */
  readonly kvKeysWritten: string[] = []
  readonly env: Cloudflare.Env
  /** Settles once the chosen call has been reached. */
  readonly reached: Promise<void>
  private markReached!: () => void
  private readonly statements = new WeakMap<object, D1PreparedStatement>()
  private settledDepth = 0

  constructor(private readonly plan: FaultPlan = {}) {
    this.reached = new Promise((resolve) => (this.markReached = resolve))
    this.env = {
      ...env,
      DB: this.wrapDatabase(env.DB),
      REFRESH_TOKENS: this.wrapKv(env.REFRESH_TOKENS),
    }
  }

  /** Round trips in sequence: what a client far from storage waits for, each at a full RTT. */
  get sequentialRoundTrips(): number {
    return Math.max(0, ...this.depths)
  }

  /** The name of the call that failed, if one did. */
  get failedCall(): string | undefined {
    return this.plan.failAt === undefined ? undefined : this.calls[this.plan.failAt - 1]
  }

  fetch(path: string, init: RequestInit = {}): Promise<Response> {
    return this.fetchRequest(new Request(`${BASE_URL}${path}`, init))
  }

  async fetchRequest(request: Request): Promise<Response> {
    const ctx = createExecutionContext()
    const res = await app.fetch(request, this.env, ctx)
    await waitOnExecutionContext(ctx)
    return res
  }

  private intercept<T>(name: string, read: boolean, call: () => Promise<T>): Promise<T> {
    this.calls.push(name)
    this.reads.push(read)
    const depth = this.settledDepth + 1
    this.depths.push(depth)
    const settle = () => {
      this.settledDepth = Math.max(this.settledDepth, depth)
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

  private wrapStatement(statement: D1PreparedStatement, sql: string): D1PreparedStatement {
    const read = /^\s*select\b/i.test(sql)
    const wrapped = new Proxy(statement, {
      get: (target, property, receiver) => {
        if (property === 'bind') {
          return (...values: unknown[]) => this.wrapStatement(target.bind(...values), sql)
        }
        if (typeof property === 'string' && D1_STATEMENT_CALLS.has(property)) {
          return (...args: unknown[]) =>
            this.intercept(`d1.${property}`, read, () =>
              (Reflect.get(target, property) as (...a: unknown[]) => Promise<unknown>).apply(
                target,
                args
              )
            )
        }
        const value = Reflect.get(target, property, receiver)
        return typeof value === 'function' ? value.bind(target) : value
      },
    })
    this.statements.set(wrapped, statement)
    return wrapped
  }

  private wrapDatabase(db: D1Database): D1Database {
    return new Proxy(db, {
      get: (target, property) => {
        if (property === 'prepare') {
          return (sql: string) => this.wrapStatement(target.prepare(sql), sql)
        }
        if (property === 'batch') {
          return (statements: D1PreparedStatement[]) =>
            this.intercept('d1.batch', false, () =>
              target.batch(
                statements.map((statement) => this.statements.get(statement) ?? statement)
              )
            )
        }
        if (typeof property === 'string' && D1_DATABASE_CALLS.has(property)) {
          return (...args: unknown[]) =>
            this.intercept(`d1.${property}`, false, () =>
              (Reflect.get(target, property) as (...a: unknown[]) => Promise<unknown>).apply(
                target,
                args
              )
            )
        }
        const value = Reflect.get(target, property)
        return typeof value === 'function' ? value.bind(target) : value
      },
    })
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
