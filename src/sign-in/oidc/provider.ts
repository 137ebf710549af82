/**
 * The provider's side over HTTP: its discovery document, its JWKS and its token endpoint. Both
 * documents are cached in the isolate for an hour (per provider, per createAuth); a `kid` the
 * cached JWKS lacks refetches it once (a provider rotating keys), at most every 10 seconds.
 * Every response is read with a size limit and a timeout.
 */
import { nowSeconds } from '../../clock'
import type { ProviderConfig } from './config'
import { isAllowedProviderUrl } from './config'
import { SignInFailed } from './errors'

export interface Discovery {
  authorization_endpoint: string
  token_endpoint: string
  jwks_uri: string
  token_endpoint_auth_methods_supported?: string[]
}

/** The members of a public JWK this module reads. */
export type ProviderJwk = JsonWebKey & { kid?: string }

const MAX_RESPONSE_BYTES = 64 * 1024
const TIMEOUT_MS = 5_000
const CACHE_SECONDS = 3_600
const REFETCH_INTERVAL_SECONDS = 10

const failed = (cause?: unknown) => new SignInFailed('provider_error', { cause })

/** The body as JSON, read chunk by chunk and given up past the limit. */
const readJson = async (res: Response): Promise<unknown> => {
  const reader: ReadableStreamDefaultReader<Uint8Array> | undefined = res.body?.getReader()
  // Its own decoder: a streaming one keeps state between chunks.
  const decoder = new TextDecoder()
  let text = ''
  let bytes = 0
  for (let chunk = await reader?.read(); chunk && !chunk.done; chunk = await reader?.read()) {
    bytes += chunk.value.byteLength
    text += decoder.decode(chunk.value, { stream: true })
    if (bytes > MAX_RESPONSE_BYTES) {
      await reader?.cancel()
      throw failed()
    }
  }
  try {
    return JSON.parse(text + decoder.decode()) as unknown
  } catch (cause) {
    throw failed(cause)
  }
}

const call = async (url: string, init: RequestInit = {}): Promise<unknown> => {
  let res: Response
  try {
    res = await fetch(url, { ...init, redirect: 'manual', signal: AbortSignal.timeout(TIMEOUT_MS) })
  } catch (cause) {
    throw failed(cause)
  }
  const body = await readJson(res)
  if (!res.ok) throw failed()
  return body
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

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

/** The client of one configured provider. */
export const providerClient = (config: ProviderConfig) => {
  const discovery = cacheFor(async () =>
    readDiscovery(
      await call(`${config.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`),
      config.issuer
    )
  )
  const jwks = cacheFor(async () => readKeys(await call((await discovery()).jwks_uri)))
  let forcedAt = 0

  return {
    config,
    discovery: () => discovery(),
    /** The keys, refetched once when none matches (`matches`) and no refetch happened lately. */
    async keys(matches: (keys: ProviderJwk[]) => boolean): Promise<ProviderJwk[]> {
      const keys = await jwks()
      const now = nowSeconds()
      if (matches(keys) || now - forcedAt < REFETCH_INTERVAL_SECONDS) return keys
      forcedAt = now
      return jwks(true)
    },
    /** The token request with the PKCE verifier and the client's authentication; the ID token. */
    async redeemCode(code: string, verifier: string, redirectUri: string): Promise<string> {
      const { token_endpoint: endpoint, token_endpoint_auth_methods_supported: methods } =
        await discovery()
      const form = new URLSearchParams({
        grant_type: 'authorization_code',
        code,
        redirect_uri: redirectUri,
        code_verifier: verifier,
      })
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
    },
  }
}

export type ProviderClient = ReturnType<typeof providerClient>
