/**
 * The ID token's checks (OpenID Connect Core §3.1.3.7): the signature with a key of the provider's
 * JWKS (RS256, ES256 or EdDSA only: never `none`, never an HMAC keyed with a public key), then
 * `iss`, `aud`, `azp`, `exp`, `iat` and `nonce`. Signature verification is hono/jwt's, which the
 * access tokens already bundle.
 */
import { verify } from 'hono/jwt'
import { nowSeconds } from '../../clock'
import { constantTimeEqualText, fromBase64Url, utf8Decoder } from '../../auth/encoding'
import { InvalidIdToken } from './errors'
import type { ProviderJwk } from './provider'

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

/** Each algorithm's key family, and the only JWK members Web Crypto is given. */
const FAMILIES: Record<Alg, { kty: string; crv?: string; members: readonly string[] }> = {
  RS256: { kty: 'RSA', members: ['kty', 'n', 'e'] },
  ES256: { kty: 'EC', crv: 'P-256', members: ['kty', 'crv', 'x', 'y'] },
  EdDSA: { kty: 'OKP', crv: 'Ed25519', members: ['kty', 'crv', 'x'] },
}

const MAX_TOKEN_LENGTH = 16 * 1024
/** Clock skew allowed between the provider and the worker. */
const LEEWAY_SECONDS = 60

const invalid = (why: string) => new InvalidIdToken(why)

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
  throw invalid('malformed')
}

const isAlg = (value: unknown): value is Alg =>
  value === 'RS256' || value === 'ES256' || value === 'EdDSA'

const fits = (alg: Alg, kid: unknown) => (key: ProviderJwk) => {
  const family = FAMILIES[alg]
  return (
    key.kty === family.kty &&
    (family.crv === undefined || key.crv === family.crv) &&
    (key.alg === undefined || key.alg === alg) &&
    (key.use === undefined || key.use === 'sig') &&
    (kid === undefined || key.kid === kid)
  )
}

export const verifyIdToken = async (
  token: string,
  expected: IdTokenExpectations
): Promise<IdTokenClaims> => {
  if (token.length > MAX_TOKEN_LENGTH) throw invalid('too long')
  const header = decodePart(token.split('.')[0])
  const { alg, kid } = header
  if (!isAlg(alg)) throw invalid('algorithm not allowed')
  if (kid !== undefined && typeof kid !== 'string') throw invalid('malformed kid')
  // Without a kid, the one key of the family; two would leave the choice to the token.
  const candidates = (keys: ProviderJwk[]) => keys.filter(fits(alg, kid))
  const found = candidates(await expected.keys((keys) => candidates(keys).length === 1))
  const key = found.length === 1 ? found[0] : undefined
  if (!key) throw invalid('no key for this token')
  const jwk = Object.fromEntries(
    FAMILIES[alg].members.map((name) => [name, key[name as keyof ProviderJwk]])
  ) as unknown as JsonWebKey & { kty: string }

  let payload: Record<string, unknown>
  try {
    // Time claims are checked below, with a leeway hono's verify has not.
    payload = await verify(token, jwk, {
      alg,
      iss: expected.issuer,
      aud: expected.clientId,
      exp: false,
      iat: false,
      nbf: false,
    })
  } catch (cause) {
    throw new InvalidIdToken('signature or claims rejected', { cause })
  }

  const now = nowSeconds()
  const { exp, iat, nonce, azp, aud, sub } = payload
  if (typeof exp !== 'number' || exp + LEEWAY_SECONDS <= now) throw invalid('expired')
  if (typeof iat !== 'number' || iat > now + LEEWAY_SECONDS) throw invalid('issued in the future')
  // §3.1.3.7 (4, 5): several audiences need an azp, and an azp must be this client.
  if (Array.isArray(aud) && aud.length > 1 && azp === undefined) throw invalid('azp missing')
  if (azp !== undefined && azp !== expected.clientId) throw invalid('azp is another client')
  if (typeof nonce !== 'string' || !constantTimeEqualText(nonce, expected.nonce)) {
    throw invalid('nonce mismatch')
  }
  if (typeof sub !== 'string' || sub.length === 0 || sub.length > 255) throw invalid('bad sub')
  return {
    sub,
    email: typeof payload.email === 'string' ? payload.email : undefined,
    // Some providers send the string "true"; anything but true is unverified.
    emailVerified: payload.email_verified === true || payload.email_verified === 'true',
  }
}
