/**
 * Access tokens: JWTs signed with Web Crypto, HS256 by default (JWT_SECRET) or EdDSA / ES256 with
 * a `kid` from a private JWK set. The algorithm is pinned by configuration (and by the kid's key),
 * and the time claims are checked here after the signature, so that a forged token is
 * `invalid_token` and only a genuine one can be `token_expired`.
 */
import { nowSeconds } from '../clock'
import type { AuthOptions } from '../options'
import { ACCESS_TOKEN_USE, MALFORMED, checkAccessClaims, verifiedPayload } from './access-claims'
import type { AccessClaims, VerificationKey } from './access-claims'
import { toBase64Url, utf8 } from './encoding'
import { InvalidAccessToken, Misconfigured } from './errors'
import { privateKeyOf, publicKeyOf, signParamsOf } from './signing-keys'
import type { KeySet, PublicJwk } from './signing-keys'

const ALGORITHM = 'HS256'
export { ACCESS_TOKEN_USE, CLOCK_LEEWAY_SECONDS, MAX_TOKEN_LENGTH } from './access-claims'
export type { AccessClaims } from './access-claims'

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

const HMAC = { name: 'HMAC' }

/** A compact JWS (RFC 7515 §7.1): header and claims, then the signature over both. */
const signCompact = async (
  header: object,
  claims: AccessClaims,
  params: SubtleCryptoSignAlgorithm,
  key: CryptoKey
): Promise<string> => {
  const signingInput = `${encodePart(header)}.${encodePart(claims)}`
  const signature = await crypto.subtle.sign(params, key, utf8.encode(signingInput))
  return `${signingInput}.${toBase64Url(new Uint8Array(signature))}`
}

/** Signs with the active key and names it in the header, so that verifiers can pick its public half. */
const signWithKeySet = async (keySet: KeySet, claims: AccessClaims): Promise<string> => {
  const { active } = keySet
  return signCompact(
    { alg: active.alg, typ: 'JWT', kid: active.kid },
    claims,
    signParamsOf(active.alg),
    await usable(privateKeyOf(active))
  )
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
      : await signCompact(
          { alg: ALGORITHM, typ: 'JWT' },
          claims,
          HMAC,
          await signingKey(material.secret)
        )
  return { token, expiresIn: options.accessTokenTtl }
}

/**
 * The key and algorithm a token must verify with. With a key set, the header's kid picks the key
 * and the key alone decides the algorithm, so an HS256 token "signed" with a public key, or any
 * alg that differs from its key's, never reaches a signature check.
 */
const verificationKey = async (
  options: AuthOptions,
  header: Record<string, unknown>
): Promise<VerificationKey> => {
  const material = options.signer.material()
  if (!('keySet' in material)) {
    if (header.alg !== ALGORITHM) throw new InvalidAccessToken(MALFORMED)
    return { key: await signingKey(material.secret), params: HMAC }
  }
  const key = material.keySet.keys.find((candidate) => candidate.kid === header.kid)
  if (!key) throw new InvalidAccessToken('The token names no known signing key')
  if (header.alg !== key.alg) {
    throw new InvalidAccessToken("The token's algorithm does not match its key")
  }
  return { key: await usable(publicKeyOf(key)), params: signParamsOf(key.alg) }
}

export interface VerifyOptions {
  /**
   * Return the claims of a genuine token whose `exp` has passed instead of throwing
   * AccessTokenExpired: cookie mode needs the expired token's `sid` to renew the right session.
   */
  acceptExpired?: boolean
}

/**
 * Tokens whose signature this isolate has checked, with their decoded claims, per set of options
 * (so per key material). A client presents one access token for its whole life (15 minutes by
 * default), so most requests skip the decoding and the HMAC; the claims are checked again every
 * time, as their verdict depends on the clock. Only genuine tokens enter, keyed by the exact text,
 * and the oldest leaves first once the map is full.
 */
const VERIFIED_CACHE_SIZE = 512
const verified = new WeakMap<AuthOptions, Map<string, Record<string, unknown>>>()

const checkedSignature = async (
  options: AuthOptions,
  token: string
): Promise<Record<string, unknown>> => {
  let known = verified.get(options)
  const cached = known?.get(token)
  if (cached) return cached
  const payload = await verifiedPayload(token, (header) => verificationKey(options, header))
  if (!known) {
    known = new Map<string, Record<string, unknown>>()
    verified.set(options, known)
  }
  const oldest = known.keys().next()
  if (known.size >= VERIFIED_CACHE_SIZE && !oldest.done) known.delete(oldest.value)
  known.set(token, payload)
  return payload
}

/** Verifies signature, kind and claims; throws InvalidAccessToken or AccessTokenExpired. */
export const verifyAccessToken = async (
  options: AuthOptions,
  token: string,
  check: VerifyOptions = {}
): Promise<AccessClaims> => {
  // A deployment without usable keys is a 500 for every token, not a 401 for the malformed ones.
  options.signer.check()
  return checkAccessClaims(await checkedSignature(options, token), {
    issuer: options.issuer,
    audience: options.audience,
    now: nowSeconds(),
    acceptExpired: check.acceptExpired,
  })
}
