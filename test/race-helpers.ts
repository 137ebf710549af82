/** Deterministic races: requests held at a chosen storage call until the test lets them go. */

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
}

const passThrough = (target: object, prop: string | symbol): unknown => {
  const value: unknown = Reflect.get(target, prop, target)
  return typeof value === 'function' ? value.bind(target) : value
}

const STATEMENT_CALLS = new Set(['first', 'run', 'all', 'raw'])

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
): D1Database => {
  const originals = new WeakMap<object, { statement: D1PreparedStatement; sql: string }>()
  const wrap = (statement: D1PreparedStatement, sql: string): D1PreparedStatement => {
    const wrapped = new Proxy(statement, {
      get(target, prop) {
        if (prop === 'bind') return (...values: unknown[]) => wrap(target.bind(...values), sql)
        if (typeof prop === 'string' && STATEMENT_CALLS.has(prop) && pattern.test(sql)) {
          return async (...args: unknown[]) => {
            const call = Reflect.get(target, prop) as (...a: unknown[]) => Promise<unknown>
            const answer = await call.apply(target, args)
            await afterCall()
            return answer
          }
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
        return async (statements: D1PreparedStatement[]) => {
          const known = statements.map((s) => originals.get(s))
          const answer = await target.batch(statements.map((s, i) => known[i]?.statement ?? s))
          if (known.some((entry) => entry && pattern.test(entry.sql))) await afterCall()
          return answer
        }
      }
      return passThrough(target, prop)
    },
  })
}
