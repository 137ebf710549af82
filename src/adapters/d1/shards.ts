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

/**
 * The id prefix of shard `k` of `shards`: every shard's, shard 0's too, once there are several (an
 * untagged id would leave the choice to whatever else the statement binds); none with one shard,
 * so that one shard is today's ids exactly.
 */
export const shardPrefix = (k: number, shards: number): string => (shards > 1 ? `${k}~` : '')

// The whole value: a tag and an id (36) or a token or its hash (43, 64), so that free text that
// merely starts like one (a note's title) names no shard.
const TAGGED = /^(?:device:)?(\d{1,4})~[\w-]{36,64}$/
/** A whole bound value shaped like an address (they are stored normalised). */
const EMAIL = /^[^\s@]+@[^\s@]+$/

/**
 * A tagged id anywhere among the values wins over an address: a note's text or a user agent that
 * happens to hold an address must not move the statement to that address's shard.
 */
export const shardOf = (values: unknown[], shards: number): number => {
  let email: string | undefined
  for (const value of values) {
    if (typeof value !== 'string') continue
    const tag = TAGGED.exec(value)
    // A client's made-up tag names some shard, where its lookup finds nothing: never a 5xx.
    if (tag) return +tag[1] % shards
    if (email === undefined && EMAIL.test(value)) email = value
  }
  return email === undefined ? 0 : emailShard(email, shards)
}
