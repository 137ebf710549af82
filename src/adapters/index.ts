/** The ports over Cloudflare's bindings: each binding wrapped once in the 503 guard. */
import { DEFAULT_LIMITS, MAX_REUSE_GRACE } from '../options'
import type { AuthPorts, FailureWindow, PruneResult } from '../ports'
import { d1DeviceStore } from './d1/devices'
import { d1LoginThrottle } from './d1/login-failures'
import { d1Maintenance } from './d1/maintenance'
import { d1MfaChallengeStore } from './d1/mfa-challenges'
import { d1OneTimeTokenStore } from './d1/one-time-tokens'
import { d1OutboxStore } from './d1/outbox'
import { d1SecurityEventStore } from './d1/security-events'
import { d1SessionStore } from './d1/sessions'
import { emailShard, shardPrefix } from './d1/shards'
import { d1UserStore } from './d1/users'
import { guardD1Binding, guardKVBinding } from './guard'
import { kvRefreshIndex } from './kv/refresh-index'

export interface CloudflarePortsOptions {
  /** The D1 database: users, sessions, one-time tokens, counters, and the features' tables. */
  db: D1Database
  /**
   * More than one: accounts sharded over these databases, `db` first (docs/scaling.md). A new
   * account lives on its email's shard, and its ids say which.
   */
  shards?: D1Database[]
  /** The KV namespace of refresh-token records. */
  refreshTokens: KVNamespace
  /** The login failure window (default: 10 in 15 minutes). */
  loginFailures?: FailureWindow
  /** The longest reuse grace any configuration allows: successor boxes are pruned past it. */
  maxReuseGraceSeconds?: number
  /** How long one call may take before it is an outage (default 5 s). */
  storageTimeoutMs?: number
}

export const cloudflarePorts = (options: CloudflarePortsOptions): AuthPorts => {
  const {
    loginFailures = DEFAULT_LIMITS.loginFailures,
    maxReuseGraceSeconds = MAX_REUSE_GRACE,
    storageTimeoutMs = DEFAULT_LIMITS.storageTimeoutMs,
  } = options
  const shards = options.shards ?? [options.db]
  const guard = (binding: D1Database | D1Database[]) => guardD1Binding(binding, storageTimeoutMs)
  const db = guard(shards)
  const kv = guardKVBinding(options.refreshTokens, storageTimeoutMs)
  const retention = { loginFailureWindowSeconds: loginFailures.windowSeconds, maxReuseGraceSeconds }
  return {
    newUserId: (email) =>
      shardPrefix(emailShard(email, shards.length), shards.length) + crypto.randomUUID(),
    users: d1UserStore(db),
    sessions: d1SessionStore(db),
    refreshIndex: kvRefreshIndex(kv),
    oneTimeTokens: d1OneTimeTokenStore(db),
    loginThrottle: d1LoginThrottle(db, loginFailures),
    devices: d1DeviceStore(db),
    mfaChallenges: d1MfaChallengeStore(db),
    // Local development's outbox has no owner: shard 0 keeps all of it.
    outbox: d1OutboxStore(guard(shards[0])),
    events: d1SecurityEventStore(db),
    // Every shard is pruned; the counts are shard 0's plus the others'.
    maintenance: {
      pruneStaleRows: async (now) => {
        const pruned = await Promise.all(
          shards.map((shard) => d1Maintenance(guard(shard), retention).pruneStaleRows(now))
        )
        return pruned.reduce((sum, next) => {
          for (const key in sum) sum[key as keyof PruneResult] += next[key as keyof PruneResult]
          return sum
        })
      },
    },
    d1: db,
    d1Shards: shards.length > 1 ? shards.map((shard) => guard(shard)) : [db],
  }
}
