// Test-only bindings, added in vitest.config.mts.
declare namespace Cloudflare {
  interface Env {
    TEST_MIGRATIONS: import('cloudflare:test').D1Migration[]
    /** wrangler.toml's [vars], read by the config: what the suite runs with (CLIENT_RATE_LIMIT_MODE aside). */
    TEST_WRANGLER_VARS: Record<string, string>
    TEST_JWT_SECRET: string
    /** The JWT_ISSUER the pool runs with instead of wrangler.toml's placeholder. */
    TEST_ISSUER: string
    /** The second factor's secrets-at-rest key (a secret in a deployment). */
    MFA_SECRET: string
    /** The fast-check seed of this run. */
    FC_SEED: string
    /** examples/resource-worker, an auxiliary Worker bound to this one (test/other-workers.test.ts). */
    RESOURCE: Fetcher
    /** The JWK set the resource worker's AUTH_PUBLIC binding serves: PUT to publish one. */
    TEST_JWKS: Fetcher
    /** Shards 1 and 2 of the sharding tests (DB is shard 0); their files apply the migrations. */
    DB_1: D1Database
    DB_2: D1Database
  }
}
