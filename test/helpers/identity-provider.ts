/**
 * An identity provider for unit tests: real keys generated here, real signed ID tokens, and its
 * three HTTP endpoints (discovery, JWKS, token) answered by intercepting the worker's outbound
 * fetch, the one thing a unit test may intercept. The browser's visit to its login page is
 * `authorize`: it reads the authorization request the worker sent the browser to and answers with
 * the redirect back, as a provider would once the user signed in.
 */
import { expect, vi } from 'vitest'
import { base64UrlEncode, sha256Base64Url } from './tokens'

export type SigningAlg = 'RS256' | 'ES256'

export interface ProviderKey {
  kid: string
  alg: SigningAlg
  privateKey: CryptoKey
  publicJwk: JsonWebKey & { kid: string; alg: string; use: string }
}

const PARAMS = {
  RS256: {
    generate: {
      name: 'RSASSA-PKCS1-v1_5',
      modulusLength: 2048,
      publicExponent: new Uint8Array([1, 0, 1]),
      hash: 'SHA-256',
    },
    sign: { name: 'RSASSA-PKCS1-v1_5' },
  },
  ES256: {
    generate: { name: 'ECDSA', namedCurve: 'P-256' },
    sign: { name: 'ECDSA', hash: 'SHA-256' },
  },
} as const

export const generateProviderKey = async (
  alg: SigningAlg,
  kid: string,
  /** RSA only: a weaker modulus than the default 2048 bits, to see it refused. */
  modulusLength?: number
): Promise<ProviderKey> => {
  const params = modulusLength ? { ...PARAMS[alg].generate, modulusLength } : PARAMS[alg].generate
  const pair = (await crypto.subtle.generateKey(params, true, ['sign', 'verify'])) as CryptoKeyPair
  const jwk = (await crypto.subtle.exportKey('jwk', pair.publicKey)) as JsonWebKey
  const { key_ops: _ops, ext: _ext, ...publicJwk } = jwk
  return {
    kid,
    alg,
    privateKey: pair.privateKey,
    publicJwk: { ...publicJwk, kid, alg, use: 'sig' },
  }
}

const encodePart = (part: object) => base64UrlEncode(JSON.stringify(part))

/** A compact JWS over any header and payload, signed by `key` (or left unsigned). */
export const signJwt = async (
  header: Record<string, unknown>,
  payload: Record<string, unknown>,
  key: ProviderKey | null
): Promise<string> => {
  const input = `${encodePart(header)}.${encodePart(payload)}`
  if (!key) return `${input}.`
  const signature = await crypto.subtle.sign(
    PARAMS[key.alg].sign,
    key.privateKey,
    new TextEncoder().encode(input)
  )
  return `${input}.${base64UrlEncode(new Uint8Array(signature))}`
}

export interface Login {
  /** Claims of the ID token on top of the usual ones (iss, aud, sub, nonce, iat, exp). */
  claims?: Record<string, unknown>
  /** Makes the ID token itself (an attack): given the claims the provider would sign. */
  idToken?: (claims: Record<string, unknown>, provider: TestProvider) => Promise<string>
}

interface IssuedCode {
  login: Login
  nonce: string
  challenge: string
  redirectUri: string
}

export interface TestProviderOptions {
  issuer: string
  clientId?: string
  clientSecret?: string
  alg?: SigningAlg
}

export type TestProvider = Awaited<ReturnType<typeof startTestProvider>>

/** Starts intercepting the issuer's URLs; every other fetch goes out as usual. */
export const startTestProvider = async (options: TestProviderOptions) => {
  const issuer = options.issuer
  const clientId = options.clientId ?? 'test-client'
  const clientSecret = options.clientSecret ?? 'test-client-secret'
  const keys: ProviderKey[] = [await generateProviderKey(options.alg ?? 'RS256', 'key-1')]
  const codes = new Map<string, IssuedCode>()
  /** Every URL the worker fetched from the provider, in order. */
  const fetched: string[] = []
  const discovery: Record<string, unknown> = {
    issuer,
    authorization_endpoint: `${issuer}/authorize`,
    token_endpoint: `${issuer}/token`,
    jwks_uri: `${issuer}/jwks`,
    response_types_supported: ['code'],
    id_token_signing_alg_values_supported: ['RS256', 'ES256'],
    token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
  }
  /** Set to make the token endpoint fail (an HTTP status) instead of answering. */
  const failures: { token?: number } = {}

  const tokenResponse = async (request: Request): Promise<Response> => {
    if (failures.token) return Response.json({ error: 'server_error' }, { status: failures.token })
    const expected = `Basic ${btoa(`${clientId}:${clientSecret}`)}`
    if (request.headers.get('Authorization') !== expected) {
      return Response.json({ error: 'invalid_client' }, { status: 401 })
    }
    const form = new URLSearchParams(await request.text())
    const issued = codes.get(form.get('code') ?? '')
    codes.delete(form.get('code') ?? '')
    const verifier = form.get('code_verifier') ?? ''
    if (
      form.get('grant_type') !== 'authorization_code' ||
      issued?.redirectUri !== form.get('redirect_uri') ||
      (await sha256Base64Url(verifier)) !== issued.challenge
    ) {
      return Response.json({ error: 'invalid_grant' }, { status: 400 })
    }
    const now = Math.floor(Date.now() / 1000)
    const claims = {
      iss: issuer,
      aud: clientId,
      sub: 'subject-1',
      nonce: issued.nonce,
      iat: now,
      exp: now + 300,
      ...issued.login.claims,
    }
    const idToken = issued.login.idToken
      ? await issued.login.idToken(claims, provider)
      : await provider.sign(claims)
    return Response.json({ access_token: 'at', token_type: 'Bearer', id_token: idToken })
  }

  const realFetch = globalThis.fetch
  vi.spyOn(globalThis, 'fetch').mockImplementation(async (input, init) => {
    const request = new Request(input, init)
    if (!request.url.startsWith(`${issuer}/`)) return realFetch(input, init)
    fetched.push(request.url)
    const path = request.url.slice(issuer.length)
    if (path === '/.well-known/openid-configuration') return Response.json(discovery)
    if (path === '/jwks') return Response.json({ keys: keys.map((key) => key.publicJwk) })
    if (path === '/token' && request.method === 'POST') return tokenResponse(request)
    return new Response('not found', { status: 404 })
  })

  const provider = {
    issuer,
    clientId,
    clientSecret,
    keys,
    fetched,
    discovery,
    failures,
    /** The current (last) key signs, naming its kid. */
    sign: (claims: Record<string, unknown>, key: ProviderKey = keys[keys.length - 1]) =>
      signJwt({ alg: key.alg, typ: 'JWT', kid: key.kid }, claims, key),
    /** A new current key, published in the JWKS (the old one stays unless `replace`). */
    async rotate(kid: string, replace = true, modulusLength?: number): Promise<ProviderKey> {
      const key = await generateProviderKey(keys[0].alg, kid, modulusLength)
      if (replace) keys.splice(0, keys.length)
      keys.push(key)
      return key
    },
    /**
     * The user signs in at the provider: checks the authorization request the worker sent the
     * browser to, and returns the callback URL the provider sends the browser back to.
     */
    async authorize(authorizationUrl: string, login: Login = {}): Promise<URL> {
      const url = new URL(authorizationUrl)
      expect(`${url.origin}${url.pathname}`).toBe(`${issuer}/authorize`)
      const params = url.searchParams
      expect(params.get('response_type')).toBe('code')
      expect(params.get('client_id')).toBe(clientId)
      expect(params.get('code_challenge_method')).toBe('S256')
      const code = crypto.randomUUID()
      codes.set(code, {
        login,
        nonce: params.get('nonce') ?? '',
        challenge: params.get('code_challenge') ?? '',
        redirectUri: params.get('redirect_uri') ?? '',
      })
      const back = new URL(params.get('redirect_uri') ?? '')
      back.searchParams.set('code', code)
      back.searchParams.set('state', params.get('state') ?? '')
      return back
    },
  }
  return provider
}
