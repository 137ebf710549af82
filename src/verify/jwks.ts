/**
 * The auth worker's public keys as a resource server holds them: the JWK set fetched once, kept
 * for `cacheSeconds`, fetched again early only for a kid it does not know (a key rotation), and at
 * most once per `unknownKidCooldownSeconds`, so that tokens with made-up kids cannot turn every
 * request into a fetch. A failed refresh keeps the keys already held.
 */
import { InvalidAccessToken } from '../auth/errors'
import { KeySetError, readPublicKey } from '../auth/signing-keys'
import type { PublicKey } from '../auth/signing-keys'
import { nowSeconds } from '../clock'

/** Far more than a rotation needs (the worker accepts at most 16 keys); a larger set is refused. */
const MAX_JWKS_BYTES = 64 * 1024
const MAX_KEYS = 32

/** Who fetches the set: the global fetch, or a Service Binding to the auth worker. */
export interface JwksFetcher {
  fetch(url: string): Promise<Response>
}

export interface JwksOptions {
  /** The auth worker's /.well-known/jwks.json. */
  url: string
  /** Kept this long (the worker publishes its set with max-age=300). */
  cacheSeconds?: number
  /** The least time between two fetches for an unknown kid. */
  unknownKidCooldownSeconds?: number
}

/** The keys could not be fetched and none are held: the verifier answers 503. */
export class JwksUnavailable extends Error {
  override name = 'JwksUnavailable'
}

const fetchKeys = async (fetcher: JwksFetcher, url: string): Promise<Map<string, PublicKey>> => {
  const res = await fetcher.fetch(url)
  if (!res.ok) throw new JwksUnavailable(`the JWK set answered ${res.status}`)
  const bytes = await res.arrayBuffer()
  if (bytes.byteLength > MAX_JWKS_BYTES) throw new JwksUnavailable('the JWK set is too large')
  const list = (JSON.parse(new TextDecoder().decode(bytes)) as { keys?: unknown } | null)?.keys
  if (!Array.isArray(list) || list.length > MAX_KEYS) {
    throw new JwksUnavailable('the JWK set is not {"keys":[...]}')
  }
  const keys = new Map<string, PublicKey>()
  list.forEach((raw, index) => {
    try {
      const key = readPublicKey(raw, `key ${index}`)
      keys.set(key.kid, key)
    } catch (error) {
      // A key of another kind (RSA, another service's) verifies nothing here; it is skipped.
      if (!(error instanceof KeySetError)) throw error
    }
  })
  return keys
}

export const jwksKeys = ({
  url,
  cacheSeconds = 300,
  unknownKidCooldownSeconds = 30,
}: JwksOptions) => {
  let held: { keys: Map<string, PublicKey>; fetchedAt: number } | undefined
  let pending: Promise<Map<string, PublicKey>> | undefined
  let lastUnknownKidFetch = -Infinity

  // Concurrent requests share one fetch.
  const refresh = async (fetcher: JwksFetcher): Promise<Map<string, PublicKey>> => {
    pending ??= fetchKeys(fetcher, url).finally(() => {
      pending = undefined
    })
    try {
      const keys = await pending
      held = { keys, fetchedAt: nowSeconds() }
      return keys
    } catch (cause) {
      if (held) return held.keys
      throw cause instanceof JwksUnavailable
        ? cause
        : new JwksUnavailable('the JWK set could not be read', { cause })
    }
  }

  /** The key a token's header names; throws InvalidAccessToken when the set has none by that kid. */
  return async function keyFor(kid: unknown, fetcher: JwksFetcher): Promise<PublicKey> {
    if (typeof kid !== 'string') throw new InvalidAccessToken('The token names no signing key')
    const now = nowSeconds()
    const cached = held && now - held.fetchedAt < cacheSeconds ? held.keys : undefined
    const fresh = cached !== undefined
    let keys = cached ?? (await refresh(fetcher))
    // A set fetched for this very request is as new as a second fetch would be.
    if (fresh && !keys.has(kid) && now - lastUnknownKidFetch >= unknownKidCooldownSeconds) {
      lastUnknownKidFetch = now
      keys = await refresh(fetcher)
    }
    const key = keys.get(kid)
    if (!key) throw new InvalidAccessToken('The token names no known signing key')
    return key
  }
}
