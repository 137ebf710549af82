/**
 * The provider's side over HTTP: its discovery document, its JWKS and its token endpoint. Both
 * documents are cached in the isolate for an hour (per provider, per createAuth); a `kid` the
 * cached JWKS lacks refetches it once (a provider rotating keys), at most every 10 seconds.
 * Every response is read with a size limit and a timeout (provider-http.ts).
 */
import { nowSeconds } from '../../clock'
import type { OidcProviderConfig } from './config'
import { isAllowedProviderUrl } from './config'
import { verifyIdToken } from './id-token'
import type { ProviderJwk } from './id-token'
import { call, codeForm, failed, isObject } from './provider-http'
import type { ProviderClient } from './provider-http'

export interface Discovery {
  authorization_endpoint: string
  token_endpoint: string
  jwks_uri: string
  token_endpoint_auth_methods_supported?: string[]
}

const CACHE_SECONDS = 3_600
const REFETCH_INTERVAL_SECONDS = 10

/** OpenID Connect Discovery §4.3: the document's issuer is the configured one, exactly. */
const readDiscovery = (body: unknown, issuer: string): Discovery => {
  if (!isObject(body) || body.issuer !== issuer) throw failed()
  // The issuer's scheme too: an https provider's token endpoint never gets the secret over http.
  const scheme = `${issuer.split(':')[0]}:`
  for (const name of ['authorization_endpoint', 'token_endpoint', 'jwks_uri']) {
    const url = body[name]
    if (
      typeof url !== 'string' ||
      !url.startsWith(scheme) ||
      !isAllowedProviderUrl(url.split('?')[0] ?? '')
    ) {
      throw failed()
    }
  }
  const methods = body.token_endpoint_auth_methods_supported
  if (
    methods !== undefined &&
    !(Array.isArray(methods) && methods.every((m) => typeof m === 'string'))
  ) {
    throw failed()
  }
  return body as unknown as Discovery
}

const readKeys = (body: unknown): ProviderJwk[] => {
  if (!isObject(body) || !Array.isArray(body.keys)) throw failed()
  return body.keys.filter(isObject) as unknown as ProviderJwk[]
}

interface Cached<T> {
  value: Promise<T>
  until: number
}

/** Keeps a fetch's promise until it expires; a failed one is forgotten at once. */
const cacheFor = <T>(load: () => Promise<T>) => {
  let cached: Cached<T> | undefined
  return (force = false): Promise<T> => {
    const now = nowSeconds()
    if (!cached || force || cached.until <= now) {
      const value = load()
      const entry = { value, until: now + CACHE_SECONDS }
      cached = entry
      value.catch(() => {
        if (cached === entry) cached = undefined
      })
    }
    return cached.value
  }
}

/** The client of one configured OpenID provider. */
export const providerClient = (config: OidcProviderConfig): ProviderClient => {
  const discovery = cacheFor(async () =>
    readDiscovery(
      await call(`${config.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`),
      config.issuer
    )
  )
  const jwks = cacheFor(async () => readKeys(await call((await discovery()).jwks_uri)))
  let forcedAt = 0
  /** The keys, refetched once when none matches (`matches`) and no refetch happened lately. */
  const keys = async (matches: (keys: ProviderJwk[]) => boolean): Promise<ProviderJwk[]> => {
    const found = await jwks()
    const now = nowSeconds()
    if (matches(found) || now - forcedAt < REFETCH_INTERVAL_SECONDS) return found
    forcedAt = now
    return jwks(true)
  }

  /** The token request with the PKCE verifier and the client's authentication; the ID token. */
  const redeemCode = async (code: string, verifier: string, redirectUri: string) => {
    const { token_endpoint: endpoint, token_endpoint_auth_methods_supported: methods } =
      await discovery()
    const form = codeForm(code, verifier, redirectUri)
    const headers: Record<string, string> = {
      'Content-Type': 'application/x-www-form-urlencoded',
      Accept: 'application/json',
    }
    const secret = config.clientSecret
    // client_secret_basic is the default (RFC 6749 §2.3.1: both parts form-encoded first).
    if (
      secret !== undefined &&
      (methods ?? ['client_secret_basic']).includes('client_secret_basic')
    ) {
      headers.Authorization = `Basic ${btoa(`${encodeURIComponent(config.clientId)}:${encodeURIComponent(secret)}`)}`
    } else {
      form.set('client_id', config.clientId)
      if (secret !== undefined) form.set('client_secret', secret)
    }
    const body = await call(endpoint, { method: 'POST', headers, body: form })
    if (!isObject(body) || typeof body.id_token !== 'string') {
      throw failed()
    }
    return body.id_token
  }

  return {
    config,
    authorization: async () => ({
      endpoint: (await discovery()).authorization_endpoint,
      nonce: true,
    }),
    async identify(code, verifier, redirectUri, nonce) {
      return verifyIdToken(await redeemCode(code, verifier, redirectUri), {
        issuer: config.issuer,
        clientId: config.clientId,
        nonce,
        keys,
      })
    },
  }
}
