/** Key sets for the asymmetric algorithms, an app env that uses them, and JWTs signed by hand. */
import { env } from 'cloudflare:test'
import { expect } from 'vitest'
import { base64UrlEncode, callApp, uniqueEmail } from './helpers'
import type { TokenResponseBody } from './helpers'

export { callApp }

export type Asymmetric = 'EdDSA' | 'ES256'

export interface PrivateJwk {
  kty: string
  crv: string
  x: string
  y?: string
  d: string
  kid: string
  alg: Asymmetric
  use: 'sig'
}

const PARAMS = {
  EdDSA: { generate: { name: 'Ed25519' }, sign: { name: 'Ed25519' } },
  ES256: {
    generate: { name: 'ECDSA', namedCurve: 'P-256' },
    sign: { name: 'ECDSA', hash: 'SHA-256' },
  },
} as const

export const generateKey = async (alg: Asymmetric, kid: string): Promise<PrivateJwk> => {
  const pair = (await crypto.subtle.generateKey(PARAMS[alg].generate, true, [
    'sign',
    'verify',
  ])) as CryptoKeyPair
  const { kty, crv, x, y, d } = (await crypto.subtle.exportKey(
    'jwk',
    pair.privateKey
  )) as JsonWebKey
  return { kty: kty, crv: crv!, x: x!, ...(y ? { y } : {}), d: d!, kid, alg, use: 'sig' }
}

export type AppEnvironment = typeof env & Record<string, unknown>

/** The test pool's env with an asymmetric algorithm and the given private keys (first one signs). */
export const envWithKeys = (
  alg: Asymmetric,
  keys: PrivateJwk[],
  extra: Record<string, string> = {}
): AppEnvironment => ({
  ...env,
  JWT_ALGORITHM: alg,
  JWT_PRIVATE_KEYS: JSON.stringify({ keys }),
  ...extra,
})

export const registerWith = async (appEnv: object): Promise<TokenResponseBody> => {
  const res = await callApp(appEnv, '/auth/register', {
    json: { email: uniqueEmail(), password: 'correct horse battery staple' },
  })
  expect(res.status, await res.clone().text()).toBe(201)
  return res.json()
}

export const fetchJwks = async (appEnv: object): Promise<{ keys: Record<string, unknown>[] }> => {
  const res = await callApp(appEnv, '/.well-known/jwks.json')
  expect(res.status, await res.clone().text()).toBe(200)
  return res.json()
}

/** Signs any header and payload with a private JWK, whatever the header claims. */
export const signWith = async (
  key: PrivateJwk,
  header: Record<string, unknown>,
  payload: Record<string, unknown>
): Promise<string> => {
  const { kty, crv, x, y, d } = key
  const privateKey = await crypto.subtle.importKey(
    'jwk',
    { kty, crv, x, y, d },
    PARAMS[key.alg].generate,
    false,
    ['sign']
  )
  const signingInput = `${base64UrlEncode(JSON.stringify(header))}.${base64UrlEncode(JSON.stringify(payload))}`
  const signature = await crypto.subtle.sign(
    PARAMS[key.alg].sign,
    privateKey,
    new TextEncoder().encode(signingInput)
  )
  return `${signingInput}.${base64UrlEncode(new Uint8Array(signature))}`
}
