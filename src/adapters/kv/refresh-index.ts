/**
 * Refresh-token records in Workers KV, keyed by the token's hash. Each key is written once, when
 * its token is issued, and expires with it: no hot path rewrites a key (KV allows about one
 * write per second per key), and revocation lives in D1, not here.
 */
import type { RefreshIndex, RefreshRecord } from '../../ports'

/** KV refuses an expirationTtl below 60 s, so no refresh token may live shorter. */
export const KV_MIN_TTL = 60

const KEY_PREFIX = 'v1:refresh:'

const keyFor = (tokenHash: string): string => KEY_PREFIX + tokenHash

const isRefreshRecord = (value: unknown): value is RefreshRecord => {
  const record = value as RefreshRecord | null
  return (
    typeof record === 'object' &&
    record !== null &&
    typeof record.sid === 'string' &&
    typeof record.uid === 'string' &&
    typeof record.exp === 'number'
  )
}

export const kvRefreshIndex = (kv: KVNamespace): RefreshIndex => ({
  async put(tokenHash, record, now) {
    const expirationTtl = Math.max(KV_MIN_TTL, record.exp - now)
    await kv.put(keyFor(tokenHash), JSON.stringify(record), { expirationTtl })
  },

  async get(tokenHash) {
    const value = await kv.get(keyFor(tokenHash), 'json')
    return isRefreshRecord(value) ? value : null
  },

  async delete(tokenHashes) {
    await Promise.all(tokenHashes.map((hash) => kv.delete(keyFor(hash))))
  },
})
