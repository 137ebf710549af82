/** The sharded test project's databases (vitest.config.mts): DB is shard 0, then DB_1, DB_2. */
import { env } from 'cloudflare:test'

export const SHARDS = (): D1Database[] =>
  env.DB_SHARDS === '3' ? [env.DB, env.DB_1, env.DB_2] : [env.DB]

/** The database that holds an account, read from the shard tag of its id (`2~…`; none: 0). */
export const shardDb = (userId: string): D1Database =>
  SHARDS()[Number(/^(\d+)~/.exec(userId)?.[1] ?? 0)]
