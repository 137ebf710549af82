/** Key sets for the asymmetric algorithms, and an app env that signs with them. */
import { env } from 'cloudflare:test'
import { expect } from 'vitest'
import { callApp } from './requests'

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

/** Web Crypto's names for each algorithm: to generate or import a key, and to sign. */
export const SIGNING_PARAMS = {
  EdDSA: { generate: { name: 'Ed25519' }, sign: { name: 'Ed25519' } },
  ES256: {
    generate: { name: 'ECDSA', namedCurve: 'P-256' },
    sign: { name: 'ECDSA', hash: 'SHA-256' },
  },
} as const

export const generateKey = async (alg: Asymmetric, kid: string): Promise<PrivateJwk> => {
  const pair = (await crypto.subtle.generateKey(SIGNING_PARAMS[alg].generate, true, [
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

export const fetchJwks = async (appEnv: object): Promise<{ keys: Record<string, unknown>[] }> => {
  const res = await callApp(appEnv, '/.well-known/jwks.json')
  expect(res.status, await res.clone().text()).toBe(200)
  return res.json()
}
