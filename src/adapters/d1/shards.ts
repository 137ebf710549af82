/**
 * Accounts sharded over several D1 databases (DB_SHARDS, docs/scaling.md). The guarded binding
 * (../guard.ts) runs each statement on the shard named by the first of its bound values that
 * names one, so that every D1 adapter, the features' too, runs unchanged. An email names the shard
 * its hash places the account on; an id or token hash tagged `<shard>~` names its shard; a
 * statement with neither (the dev outbox, a passkey sign-in's challenge) runs on shard 0.
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

export const shardOf = (values: unknown[], shards: number): number => {
  for (const value of values) {
    if (typeof value === 'string') {
      if (value.includes('@')) return emailShard(value, shards)
      const tag = TAGGED.exec(value)
      // A client's made-up tag names some shard, where its lookup finds nothing: never a 5xx.
      if (tag) return +tag[1] % shards
    }
  }
  return 0
}
