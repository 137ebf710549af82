/**
 * The ID token's checks (OpenID Connect Core §3.1.3.7): the signature with a key of the provider's
 * JWKS (RS256, ES256 or EdDSA only: never `none`, never an HMAC keyed with a public key), then
 * `iss`, `aud`, `azp`, `exp`, `iat` and `nonce`. The signature is checked on Web Crypto directly,
 * as the access tokens are (no JWT library in the bundle).
 */
import { splitToken } from '../../auth/access-claims'
import { constantTimeEqualText, fromBase64Url, utf8, utf8Decoder } from '../../auth/encoding'
import { nowSeconds } from '../../clock'
import { SignInFailed } from './errors'

/** The members of a public JWK of the provider's that these checks read. */
export type ProviderJwk = JsonWebKey & { kid?: string }

/** What the callback keeps of a verified ID token. */
export interface IdTokenClaims {
  sub: string
  email?: string
  emailVerified: boolean
}

export interface IdTokenExpectations {
  issuer: string
  clientId: string
  nonce: string
  /** The provider's keys; called again (one refetch) when none fits the token's header. */
  keys: (matches: (keys: ProviderJwk[]) => boolean) => Promise<ProviderJwk[]>
}

type Alg = 'RS256' | 'ES256' | 'EdDSA'

/** Each algorithm's key family, and its Web Crypto import and verify parameters. */
const FAMILIES: Record<
  Alg,
  [
    kty: string,
    crv: string | undefined,
    importParams: SubtleCryptoImportKeyAlgorithm,
    verifyParams: SubtleCryptoSignAlgorithm,
  ]
> = {
  RS256: [
    'RSA',
    undefined,
    { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
    { name: 'RSASSA-PKCS1-v1_5' },
  ],
  ES256: [
    'EC',
    'P-256',
    { name: 'ECDSA', namedCurve: 'P-256' },
    { name: 'ECDSA', hash: 'SHA-256' },
  ],
  EdDSA: ['OKP', 'Ed25519', { name: 'Ed25519' }, { name: 'Ed25519' }],
}

/** RSA moduli under 2048 bits are refused (a base64url modulus of 2048 bits is 342 characters). */
const MIN_RSA_MODULUS_LENGTH = 342

const MAX_TOKEN_LENGTH = 16 * 1024
/** Clock skew allowed between the provider and the worker. */
const LEEWAY_SECONDS = 60

const decodePart = (part: string | undefined): Record<string, unknown> => {
  const bytes = part === undefined ? null : fromBase64Url(part)
  try {
    const value: unknown = bytes && JSON.parse(utf8Decoder.decode(bytes))
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      return value as Record<string, unknown>
    }
  } catch {
    // reported below
  }
  throw new SignInFailed('invalid_id_token')
}

const isAlg = (value: unknown): value is Alg =>
  value === 'RS256' || value === 'ES256' || value === 'EdDSA'

const fits = (alg: Alg, kid: unknown) => (key: ProviderJwk) => {
  const [kty, crv] = FAMILIES[alg]
  return (
    key.kty === kty &&
    key.crv === crv &&
    (key.alg === undefined || key.alg === alg) &&
    (key.use === undefined || key.use === 'sig') &&
    (kid === undefined || key.kid === kid)
  )
}

export const verifyIdToken = async (
  token: string,
  expected: IdTokenExpectations
): Promise<IdTokenClaims> => {
  if (token.length > MAX_TOKEN_LENGTH) throw new SignInFailed('invalid_id_token')
  const header = decodePart(token.split('.')[0])
  const { alg, kid } = header
  if (!isAlg(alg)) throw new SignInFailed('invalid_id_token')
  if (kid !== undefined && typeof kid !== 'string') throw new SignInFailed('invalid_id_token')
  // Without a kid, the one key of the family; two would leave the choice to the token.
  const candidates = (keys: ProviderJwk[]) => keys.filter(fits(alg, kid))
  const found = candidates(await expected.keys((keys) => candidates(keys).length === 1))
  const key = found.length === 1 ? found[0] : undefined
  if (!key) throw new SignInFailed('invalid_id_token')
  const parts = splitToken(token)
  const signature = parts && fromBase64Url(parts.signature)
  if (!parts || !signature) throw new SignInFailed('invalid_id_token')
  const [kty, crv, importParams, verifyParams] = FAMILIES[alg]
  if (kty === 'RSA' && (key.n?.length ?? 0) < MIN_RSA_MODULUS_LENGTH) {
    throw new SignInFailed('invalid_id_token')
  }
  // Only the members Web Crypto needs: a stray `key_ops` or `ext` must not upset the import.
  const { n, e, x, y } = key
  const genuine = await crypto.subtle
    .importKey('jwk', { kty, n, e, crv, x, y }, importParams, false, ['verify'])
    .then((cryptoKey) =>
      crypto.subtle.verify(verifyParams, cryptoKey, signature, utf8.encode(parts.signingInput))
    )
    // A key Web Crypto refuses, or a signature of the wrong length for its curve: not genuine.
    .catch(() => false)
  if (!genuine) throw new SignInFailed('invalid_id_token')
  const { payload } = parts
  // §3.1.3.7 (2, 3): our issuer, and our client among the audiences.
  const audiences: unknown[] = Array.isArray(payload.aud) ? payload.aud : [payload.aud]
  if (payload.iss !== expected.issuer || !audiences.includes(expected.clientId)) {
    throw new SignInFailed('invalid_id_token')
  }

  const now = nowSeconds()
  const { exp, iat, nonce, azp, aud, sub } = payload
  if (typeof exp !== 'number' || exp + LEEWAY_SECONDS <= now) {
    throw new SignInFailed('invalid_id_token')
  }
  if (typeof iat !== 'number' || iat > now + LEEWAY_SECONDS) {
    throw new SignInFailed('invalid_id_token')
  }
  // §3.1.3.7 (4, 5): several audiences need an azp, and an azp must be this client.
  if (Array.isArray(aud) && aud.length > 1 && azp === undefined) {
    throw new SignInFailed('invalid_id_token')
  }
  if (azp !== undefined && azp !== expected.clientId) throw new SignInFailed('invalid_id_token')
  if (typeof nonce !== 'string' || !constantTimeEqualText(nonce, expected.nonce)) {
    throw new SignInFailed('invalid_id_token')
  }
  if (typeof sub !== 'string' || sub.length === 0 || sub.length > 255) {
    throw new SignInFailed('invalid_id_token')
  }
  return {
    sub,
    email: typeof payload.email === 'string' ? payload.email : undefined,
    // Only the boolean true (OpenID Connect Core §5.1): anything else is unverified.
    emailVerified: payload.email_verified === true,
  }
}
