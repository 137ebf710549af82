// Setup files run before each test file; applyD1Migrations skips what is already applied.
import { applyD1Migrations, env } from 'cloudflare:test'

await applyD1Migrations(env.DB, env.TEST_MIGRATIONS)
// The sharded project's shards 1 and 2 (vitest.config.mts); DB is shard 0.
if (env.DB_SHARDS === '3') {
  for (const db of [env.DB_1, env.DB_2]) await applyD1Migrations(db, env.TEST_MIGRATIONS)
}
