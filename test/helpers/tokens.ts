/**
 * Token bytes by hand: base64url, JWT decoding and forging (HMAC, none, or a private JWK), and
 * SHA-256 digests, so that attacks are tested on bytes we made, not on a library's word.
 */
import { env } from 'cloudflare:test'
import type { Account } from './accounts'
import { SIGNING_PARAMS } from './jwks'
import type { PrivateJwk } from './jwks'

const encoder = new TextEncoder()

export const base64UrlEncode = (input: string | Uint8Array): string => {
  const bytes = typeof input === 'string' ? encoder.encode(input) : input
  let binary = ''
  for (const byte of bytes) binary += String.fromCharCode(byte)
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

export const base64UrlDecode = (text: string): string => {
  const padded = text.replace(/-/g, '+').replace(/_/g, '/')
  return new TextDecoder().decode(Uint8Array.from(atob(padded), (char) => char.charCodeAt(0)))
}

/** SHA-256 of a text, base64url without padding: how the worker stores token hashes. */
export const sha256Base64Url = async (text: string): Promise<string> =>
  base64UrlEncode(new Uint8Array(await crypto.subtle.digest('SHA-256', encoder.encode(text))))

export const decodeJwt = (
  token: string
): { header: Record<string, unknown>; payload: Record<string, unknown> } => {
  const [header, payload] = token.split('.')
  return {
    header: JSON.parse(base64UrlDecode(header)),
    payload: JSON.parse(base64UrlDecode(payload)),
  }
}

const HMAC_HASH: Record<string, string> = { HS256: 'SHA-256', HS384: 'SHA-384', HS512: 'SHA-512' }

const signHmac = async (secret: string, alg: unknown, data: Uint8Array): Promise<Uint8Array> => {
  const hash = HMAC_HASH[String(alg)]
  const key = await crypto.subtle.importKey(
    'raw',
    encoder.encode(secret),
    { name: 'HMAC', hash },
    false,
    ['sign']
  )
  return new Uint8Array(await crypto.subtle.sign('HMAC', key, data))
}

const signWithJwk = async (jwk: PrivateJwk, data: Uint8Array): Promise<Uint8Array> => {
  const { kty, crv, x, y, d } = jwk
  const key = await crypto.subtle.importKey(
    'jwk',
    { kty, crv, x, y, d },
    SIGNING_PARAMS[jwk.alg].generate,
    false,
    ['sign']
  )
  return new Uint8Array(await crypto.subtle.sign(SIGNING_PARAMS[jwk.alg].sign, key, data))
}

/**
 * Signs any header and payload, whatever the header claims: with a private JWK by its own
 * algorithm, or with an HMAC secret (the test pool's by default) by the header's HS* `alg`;
 * a secret with any other `alg` (such as `none`) gives an empty signature. A payload given as a
 * string is its JSON text as sent, for what JSON.stringify cannot write (such as `1e999`).
 */
export const forgeToken = async (
  header: Record<string, unknown>,
  payload: Record<string, unknown> | string,
  key: string | PrivateJwk = env.JWT_SECRET
): Promise<string> => {
  const payloadText = typeof payload === 'string' ? payload : JSON.stringify(payload)
  const signingInput = `${base64UrlEncode(JSON.stringify(header))}.${base64UrlEncode(payloadText)}`
  const data = encoder.encode(signingInput)
  if (typeof key !== 'string') {
    return `${signingInput}.${base64UrlEncode(await signWithJwk(key, data))}`
  }
  if (!HMAC_HASH[String(header.alg)]) return `${signingInput}.`
  return `${signingInput}.${base64UrlEncode(await signHmac(key, header.alg, data))}`
}

/** Claims like the worker's own, for a given account; override any of them. */
export const accessClaims = (
  account: Account,
  overrides: Record<string, unknown> = {}
): Record<string, unknown> => ({
  ...decodeJwt(account.accessToken).payload,
  ...overrides,
})
