/** The ports' conformance suite (src/adapters/testing/) against the D1 and KV adapters. */
import { env } from 'cloudflare:test'
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
