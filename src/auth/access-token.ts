/**
 * Access tokens: JWTs signed with Web Crypto, HS256 by default (JWT_SECRET) or EdDSA / ES256 with
 * a `kid` from a private JWK set. The algorithm is pinned by configuration (and by the kid's key),
 * and the time claims are checked here after the signature, so that a forged token is
 * `invalid_token` and only a genuine one can be `token_expired`.
 */
import { sign, verify } from 'hono/jwt'
import { nowSeconds } from '../clock'
import type { AuthOptions } from '../options'
import { fromBase64Url, toBase64Url, utf8, utf8Decoder } from './encoding'
import { AccessTokenExpired, InvalidAccessToken, Misconfigured } from './errors'
import { privateKeyOf, publicKeyOf, signParamsOf } from './signing-keys'
import type { KeySet, PublicJwk, SigningAlgorithm } from './signing-keys'

const ALGORITHM = 'HS256'
/** Marks the token's kind, so that no other token signed with the same key passes for it. */
export const ACCESS_TOKEN_USE = 'access'
/**
 * No token this worker signs comes near 8 KiB; a longer one is refused before any of it is
 * decoded, so its cost stays bounded whatever a stranger sends.
 */
export const MAX_TOKEN_LENGTH = 8 * 1024
/** Clock skew tolerated for `iat` and `nbf` in the future. */
export const CLOCK_LEEWAY_SECONDS = 30

export interface AccessClaims {
  iss: string
  /** JWT_AUDIENCE (the issuer by default): services that verify with the JWKS check it too. */
  aud: string
  sub: string
  sid: string
  jti: string
  iat: number
  exp: number
  token_use: typeof ACCESS_TOKEN_USE
  /** RFC 8176 methods the session's user proved, in order (RFC 9068 §2.2.3). */
  amr?: string[]
  /** When the session's user last proved who they are, seconds since the epoch. */
  auth_time?: number
}

// Importing a key costs more than using it; one CryptoKey per secret is safe to keep per isolate.
const keys = new Map<string, Promise<CryptoKey>>()

const signingKey = (secret: string): Promise<CryptoKey> => {
  let key = keys.get(secret)
  if (!key) {
    key = crypto.subtle.importKey(
      'raw',
      utf8.encode(secret),
      { name: 'HMAC', hash: 'SHA-256' },
      false,
      ['sign', 'verify']
    )
    keys.set(secret, key)
  }
  return key
}

const encodePart = (part: object): string => toBase64Url(utf8.encode(JSON.stringify(part)))

/** A well-formed JWK that Web Crypto still refuses (a point off its curve) is a deployment error. */
const usable = (key: Promise<CryptoKey>): Promise<CryptoKey> =>
  key.catch((cause: unknown) => {
    throw new Misconfigured('a signing key cannot be imported', { cause })
  })

/** Signs with the active key and names it in the header, so that verifiers can pick its public half. */
const signWithKeySet = async (keySet: KeySet, claims: AccessClaims): Promise<string> => {
  const { active } = keySet
  const signingInput = `${encodePart({ alg: active.alg, typ: 'JWT', kid: active.kid })}.${encodePart(claims)}`
  const signature = await crypto.subtle.sign(
    signParamsOf(active.alg),
    await usable(privateKeyOf(active)),
    utf8.encode(signingInput)
  )
  return `${signingInput}.${toBase64Url(new Uint8Array(signature))}`
}

/** The public keys to publish at /.well-known/jwks.json; none for HS256, whose key is secret. */
export const publicSigningKeys = (options: AuthOptions): PublicJwk[] => {
  // HS256 has no public half; its empty set tells verifiers that they cannot verify alone.
  if (options.signer.algorithm === 'HS256') return []
  const material = options.signer.material()
  return 'keySet' in material ? material.keySet.keys.map((key) => key.publicJwk) : []
}

export const signAccessToken = async (
  options: AuthOptions,
  subject: { userId: string; sessionId: string; amr: string[]; authTime: number }
): Promise<{ token: string; expiresIn: number }> => {
  const issuedAt = nowSeconds()
  const claims: AccessClaims = {
    iss: options.issuer,
    aud: options.audience,
    sub: subject.userId,
    sid: subject.sessionId,
    jti: crypto.randomUUID(),
    iat: issuedAt,
    exp: issuedAt + options.accessTokenTtl,
    token_use: ACCESS_TOKEN_USE,
    amr: subject.amr,
    auth_time: subject.authTime,
  }
  const material = options.signer.material()
  const token =
    'keySet' in material
      ? await signWithKeySet(material.keySet, claims)
      : await sign({ ...claims }, await signingKey(material.secret), ALGORITHM)
  return { token, expiresIn: options.accessTokenTtl }
}

const isNumber = (value: unknown): value is number =>
  typeof value === 'number' && Number.isFinite(value)
const isText = (value: unknown): value is string => typeof value === 'string' && value.length > 0
const isMethodList = (value: unknown): value is string[] =>
  Array.isArray(value) && value.every((entry) => typeof entry === 'string')

const MALFORMED = 'The access token is malformed or its signature is invalid'

/** Header members that would let a token bring or point at its own key: never trusted here. */
const KEY_BEARING_HEADERS = ['jwk', 'jku', 'x5u', 'x5c']

const readHeader = (token: string): Record<string, unknown> | null => {
  const bytes = fromBase64Url(token.slice(0, Math.max(0, token.indexOf('.'))))
  if (!bytes) return null
  try {
    const header: unknown = JSON.parse(utf8Decoder.decode(bytes))
    return typeof header === 'object' && header !== null && !Array.isArray(header)
      ? (header as Record<string, unknown>)
      : null
  } catch {
    return null
  }
}

/**
 * The key and algorithm a token must verify with. With a key set, the header's kid picks the key
 * and the key alone decides the algorithm, so an HS256 token "signed" with a public key, or any
 * alg that differs from its key's, never reaches a signature check.
 */
const verificationKey = async (
  options: AuthOptions,
  header: Record<string, unknown>
): Promise<{ key: CryptoKey; alg: SigningAlgorithm }> => {
  const material = options.signer.material()
  if (!('keySet' in material)) return { key: await signingKey(material.secret), alg: ALGORITHM }
  const key = material.keySet.keys.find((candidate) => candidate.kid === header.kid)
  if (!key) throw new InvalidAccessToken('The token names no known signing key')
  if (header.alg !== key.alg) {
    throw new InvalidAccessToken("The token's algorithm does not match its key")
  }
  return { key: await usable(publicKeyOf(key)), alg: key.alg }
}

/** Verifies signature, kind and claims; throws InvalidAccessToken or AccessTokenExpired. */
/** RFC 7519 §4.1.3: one audience, or a list of them that must name ours. */
const namesAudience = (aud: unknown, audience: string): boolean =>
  aud === audience || (Array.isArray(aud) && aud.includes(audience))

export interface VerifyOptions {
  /**
   * Return the claims of a genuine token whose `exp` has passed instead of throwing
   * AccessTokenExpired: cookie mode needs the expired token's `sid` to renew the right session.
   */
  acceptExpired?: boolean
}

export const verifyAccessToken = async (
  options: AuthOptions,
  token: string,
  check: VerifyOptions = {}
): Promise<AccessClaims> => {
  // A deployment without usable keys is a 500 for every token, not a 401 for the malformed ones.
  options.signer.check()
  if (token.length > MAX_TOKEN_LENGTH) throw new InvalidAccessToken('The access token is too long')
  const header = readHeader(token)
  if (!header) throw new InvalidAccessToken(MALFORMED)
  if (KEY_BEARING_HEADERS.some((name) => name in header)) {
    throw new InvalidAccessToken('The token carries its own key or key location')
  }
  const { key, alg } = await verificationKey(options, header)
  let payload: Record<string, unknown>
  try {
    payload = await verify(token, key, { alg, exp: false, nbf: false, iat: false })
  } catch {
    throw new InvalidAccessToken(MALFORMED)
  }
  const now = nowSeconds()
  const {
    iss,
    aud,
    sub,
    sid,
    jti,
    iat,
    exp,
    nbf,
    token_use: use,
    amr,
    auth_time: authTime,
  } = payload
  if (use !== ACCESS_TOKEN_USE || !isText(sub) || !isText(sid) || !isText(jti)) {
    throw new InvalidAccessToken('The token is not an access token')
  }
  if (iss !== options.issuer) throw new InvalidAccessToken('The token has the wrong issuer')
  if (!namesAudience(aud, options.audience)) {
    throw new InvalidAccessToken('The token is meant for another audience')
  }
  if (!isNumber(iat) || !isNumber(exp)) {
    throw new InvalidAccessToken('The token lacks iat or exp')
  }
  if (iat > now + CLOCK_LEEWAY_SECONDS) {
    throw new InvalidAccessToken('The token was issued in the future')
  }
  if (nbf !== undefined && (!isNumber(nbf) || nbf > now + CLOCK_LEEWAY_SECONDS)) {
    throw new InvalidAccessToken('The token is not valid yet')
  }
  if (exp <= now && check.acceptExpired !== true) throw new AccessTokenExpired()
  return {
    iss,
    aud: options.audience,
    sub,
    sid,
    jti,
    iat,
    exp,
    token_use: use,
    ...(isMethodList(amr) ? { amr } : {}),
    ...(isNumber(authTime) ? { auth_time: authTime } : {}),
  }
}
