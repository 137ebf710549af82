/** The ports' conformance suite (src/adapters/testing/) against the D1 and KV adapters. */
import { applyD1Migrations, env } from 'cloudflare:test'
import { beforeAll } from 'vitest'
import { cloudflarePorts } from '../src/adapters'
import { describeConformance } from '../src/adapters/testing/conformance'

const down = () => Promise.reject(new Error('storage is down'))

/** A D1 binding whose every call fails as an outage does: a rejected promise. */
const brokenD1 = (): D1Database => {
  const statement = { bind: () => statement, first: down, run: down, all: down, raw: down }
  return {
    prepare: () => statement,
    batch: down,
    exec: down,
    withSession: () => ({ prepare: () => statement, batch: down, getBookmark: () => null }),
  } as unknown as D1Database
}

const brokenKV = (): KVNamespace =>
  ({
    get: down,
    getWithMetadata: down,
    put: down,
    delete: down,
    list: down,
  }) as unknown as KVNamespace

const loginFailures = { limit: 4, windowSeconds: 120 }

describeConformance('D1 and KV adapters', {
  ports: () => cloudflarePorts({ db: env.DB, refreshTokens: env.REFRESH_TOKENS, loginFailures }),
  failing: () => cloudflarePorts({ db: brokenD1(), refreshTokens: brokenKV(), loginFailures }),
  loginFailures,
})

// The same guarantees with accounts sharded over three databases (DB is shard 0).
beforeAll(async () => {
  for (const db of [env.DB_1, env.DB_2]) await applyD1Migrations(db, env.TEST_MIGRATIONS)
})

describeConformance('D1 sharded over three databases, and KV', {
  ports: () =>
    cloudflarePorts({
      db: env.DB,
      shards: [env.DB, env.DB_1, env.DB_2],
      refreshTokens: env.REFRESH_TOKENS,
      loginFailures,
    }),
  failing: () =>
    cloudflarePorts({
      db: brokenD1(),
      shards: [brokenD1(), brokenD1(), brokenD1()],
      refreshTokens: brokenKV(),
      loginFailures,
    }),
  loginFailures,
})
