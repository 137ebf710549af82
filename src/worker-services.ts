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

// The env object is stable for an isolate's life, so building once per object (and feature list)
// is safe.
const built = new WeakMap<object, Map<readonly AuthFeature[], AuthServices>>()

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

/**
 * `features`: what the Worker registers; DEFAULT_FEATURES for the deployed one, more for a Worker
 * built with optional features (src/worker.ts).
 */
export const servicesFromEnv = (
  env: Bindings,
  features: readonly AuthFeature[] = DEFAULT_FEATURES
): AuthServices => {
  let byFeatures = built.get(env)
  if (!byFeatures) {
    byFeatures = new Map<readonly AuthFeature[], AuthServices>()
    built.set(env, byFeatures)
  }
  let services = byFeatures.get(features)
  if (!services) {
    try {
      // Providers configured for a Worker built without the feature would be ignored in silence.
      if (env.OIDC_PROVIDERS && !features.some((feature) => feature.id === 'oidc')) {
        throw new Misconfigured('OIDC_PROVIDERS is set but the oidc feature is not registered')
      }
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
    byFeatures.set(features, services)
  }
  return services
}
