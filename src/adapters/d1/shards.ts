/**
 * Accounts sharded over several D1 databases (DB_SHARDS, docs/scaling.md): one stand-in for a D1
 * binding that sends each statement to the shard named by its first bound value that names one,
 * so that every D1 adapter, the features' too, runs unchanged. An email names the shard its hash
 * places the account on; an id or token hash tagged `<shard>~` names its shard; nothing: shard 0.
 */

/** FNV-1a: a stable, even spread of addresses (no secret: an address's shard may be known). */
export const emailShard = (email: string, shards: number): number => {
  let hash = 0x811c9dc5
  for (let i = 0; i < email.length; i++) hash = Math.imul(hash ^ email.charCodeAt(i), 0x1000193)
  return (hash >>> 0) % shards
}

/** The id prefix of shard `k`: none on shard 0, so that one shard is today's ids exactly. */
export const shardPrefix = (k: number): string => (k ? `${k}~` : '')

const TAGGED = /^(?:device:)?(\d+)~/

const shardOf = (values: unknown[], shards: number): number => {
  for (const value of values) {
    if (typeof value !== 'string') continue
    if (value.includes('@')) return emailShard(value, shards)
    const tag = TAGGED.exec(value)
    if (tag) return +tag[1]
  }
  return 0
}

type Reader = Pick<D1Database, 'prepare' | 'batch'>
type Routed = Record<string, unknown> & { sql: string; args: unknown[] }
type Calls = Record<string, (...a: unknown[]) => unknown>

/** Statements are built here and prepared on their shard when they run. */
const route = (shard: (k: number) => Reader, count: number): Reader => {
  const on = (args: unknown[]) => shard(shardOf(args, count))
  const statement = (sql: string, args: unknown[]) => {
    const routed: Routed = { sql, args, bind: (...values: unknown[]) => statement(sql, values) }
    for (const call of ['first', 'run', 'all']) {
      routed[call] = (...a: unknown[]) =>
        (
          on(args)
            .prepare(sql)
            .bind(...args) as unknown as Calls
        )[call](...a)
    }
    return routed as unknown as D1PreparedStatement
  }
  return {
    prepare: (sql) => statement(sql, []),
    // A batch is one transaction: its first routable value picks the shard for all of it.
    batch: (list) => {
      const routed = list as unknown as Routed[]
      const db = on(routed.flatMap((s) => s.args))
      return db.batch(routed.map((s) => db.prepare(s.sql).bind(...s.args)))
    },
  }
}

export const shardRouter = (shards: D1Database[]): D1Database =>
  ({
    ...route((k) => shards[k], shards.length),
    withSession: (constraint?: string) =>
      route((k) => shards[k].withSession(constraint), shards.length),
  }) as unknown as D1Database
