/**
 * The Worker's services, built from its env once per env object: shared by the fetch handler, the
 * cron trigger (src/index.ts) and the RPC entrypoint (src/rpc/), so that all three answer with the
 * same options and ports.
 */
import { cloudflarePorts } from './adapters'
import { Misconfigured } from './auth/errors'
import { buildServices } from './create-auth'
import type { Bindings } from './env-options'
import { optionsFromEnv, readInteger } from './env-options'
import type { AuthFeature } from './feature'
import { DEFAULT_FEATURES } from './features'
import { MAX_REUSE_GRACE } from './options'
import type { AuthServices } from './services'

// Widened: the registration list is a tuple (its routes' types reach the typed client).
const features: readonly AuthFeature[] = DEFAULT_FEATURES

// The env object is stable for an isolate's life, so building once per object is safe.
const built = new WeakMap<object, AuthServices>()

/**
 * A deployment whose configuration cannot be parsed still answers /health: the services are a
 * stand-in that throws the Misconfigured (500 server_misconfigured) wherever one is used.
 */
const misconfigured = (error: Misconfigured): AuthServices =>
  new Proxy({} as AuthServices, {
    get() {
      throw error
    },
  })

/**
 * DB_SHARDS databases (default 1): DB is shard 0, DB_1, DB_2 … the others (docs/scaling.md). A
 * missing one is a misconfiguration, found here once, never a query to the wrong database.
 */
const shardsOf = (env: Bindings): D1Database[] => {
  const shards = Array.from(
    { length: readInteger(env.DB_SHARDS, 1, 'DB_SHARDS', 1, 64) },
    (_, k) => env[k ? (`DB_${k}` as 'DB') : 'DB']
  )
  if (!shards.every(Boolean)) throw new Misconfigured('missing DB_<n> binding')
  return shards
}

export const servicesFromEnv = (env: Bindings): AuthServices => {
  let services = built.get(env)
  if (!services) {
    try {
      const options = optionsFromEnv(env)
      const featureOptions = Object.fromEntries(
        features.map((feature) => [feature.id, feature.optionsFromEnv?.(env)])
      )
      const ports = cloudflarePorts({
        db: env.DB,
        shards: shardsOf(env),
        refreshTokens: env.REFRESH_TOKENS,
        loginFailures: options.limits.loginFailures,
        maxReuseGraceSeconds: MAX_REUSE_GRACE,
        storageTimeoutMs: options.limits.storageTimeoutMs,
      })
      services = buildServices({ ...options, features, featureOptions }, ports)
    } catch (error) {
      if (!(error instanceof Misconfigured)) throw error
      services = misconfigured(error)
    }
    built.set(env, services)
  }
  return services
}
