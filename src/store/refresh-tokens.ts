/**
 * Refresh-token records in Workers KV, keyed by the token's hash. Each key is written once, when
 * its token is issued, and expires with it: no hot path rewrites a key (KV allows about one
 * write per second per key), and revocation lives in D1, not here.
 */
import { guardKV } from './guard'

/** KV refuses an expirationTtl below 60 s, so no refresh token may live shorter. */
export const KV_MIN_TTL = 60

const KEY_PREFIX = 'v1:refresh:'

export interface RefreshRecord {
  /** Session (chain) the token belongs to. */
  sid: string
  uid: string
  /** Expiry, seconds since the epoch. */
  exp: number
}

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

export const putRefreshRecord = async (
  kv: KVNamespace,
  tokenHash: string,
  record: RefreshRecord,
  now: number
): Promise<void> => {
  const expirationTtl = Math.max(KV_MIN_TTL, record.exp - now)
  await guardKV(() => kv.put(keyFor(tokenHash), JSON.stringify(record), { expirationTtl }))
}

export const getRefreshRecord = async (
  kv: KVNamespace,
  tokenHash: string
): Promise<RefreshRecord | null> => {
  const value = await guardKV(() => kv.get(keyFor(tokenHash), 'json'))
  return isRefreshRecord(value) ? value : null
}

/** Best effort tidy-up: a record whose session has ended is already unusable. */
export const deleteRefreshRecords = async (
  kv: KVNamespace,
  tokenHashes: string[]
): Promise<void> => {
  await guardKV(() => Promise.all(tokenHashes.map((hash) => kv.delete(keyFor(hash)))))
}
