/**
 * A Hono middleware for resource servers: the bearer token is checked either by the auth worker
 * itself over a Service Binding (RPC: the same checks as requireAuth, so a revoked session is
 * refused at once) or with the worker's published keys (JWKS: no call per request, but a revoked
 * session's tokens pass until their `exp`). Either way it sets `c.var.auth` as requireAuth does,
 * answers the contract's 401s with WWW-Authenticate, and can ask a route for a recent sign-in.
 * It imports only the token rules of the domain, never the app (docs/other-workers.md).
 */
import type { Context, MiddlewareHandler } from 'hono'
import { checkAccessClaims, claimsProof, verifiedPayload } from '../auth/access-claims'
import type { AccessClaims } from '../auth/access-claims'
import { AccessTokenExpired, InvalidAccessToken } from '../auth/errors'
import { publicKeyOf, signParamsOf } from '../auth/signing-keys'
import { nowSeconds } from '../clock'
import type { AuthContext } from '../env'
import { bearerChallenge, bearerToken, stepUpChallenge } from '../http/bearer'
import type { PublicUser } from '../ports'
import type { RpcError, VerifiedAccess } from '../rpc/types'
import { JwksUnavailable, jwksKeys } from './jwks'
import type { JwksFetcher, JwksOptions } from './jwks'

/** What the verifier calls on the Service Binding: the AuthService entrypoint's one method. */
export interface AccessTokenService {
  verifyAccessToken(token: string): Promise<VerifiedAccess>
}

export interface ServiceVerifierOptions {
  /** The Service Binding to the auth worker's AuthService entrypoint (`c.env.AUTH`). */
  service: (c: Context) => AccessTokenService
}

export interface JwksVerifierOptions {
  jwks: JwksOptions & {
    /** Who fetches the set; the global fetch by default (a Service Binding's fetch also works). */
    fetcher?: (c: Context) => JwksFetcher
  }
  /** The tokens' `iss` (JWT_ISSUER) and `aud` (JWT_AUDIENCE, the issuer by default). */
  issuer: string
  audience?: string
}

/** What a route may demand beyond a valid token (RFC 9470 step-up). */
export interface RouteRequirements {
  /** The sign-in (`auth_time`) is at most this many seconds old. */
  maxAge?: number
  /** RFC 8176 methods the sign-in must include, such as `["otp"]`. */
  amr?: string[]
}

export interface VerifiedVariables {
  auth: AuthContext
  accessClaims: AccessClaims
}

/** Over RPC the worker also reads the user's profile, as requireAuth does. */
export interface ServiceVerifiedVariables extends VerifiedVariables {
  user: PublicUser
}

/** The verifier's own codes; over RPC, the worker's error is passed on as it came. */
type VerifierCode =
  | 'missing_token'
  | 'invalid_token'
  | 'token_expired'
  | 'reauthentication_required'
  | 'service_unavailable'

type Refusal = Pick<RpcError, 'status' | 'message' | 'headers'> & { code: string }

const refusal = (
  status: 401 | 503,
  code: VerifierCode,
  message: string,
  headers: Record<string, string>
): Refusal => ({ status, code, message, headers })

const answer = (c: Context, { status, code, message, headers }: Refusal): Response => {
  // The status comes from the worker's own table or the verifier's: always 4xx or 5xx.
  const res = c.json({ error: code, message }, status as 401)
  for (const [name, value] of Object.entries(headers)) res.headers.set(name, value)
  res.headers.set('X-Content-Type-Options', 'nosniff')
  res.headers.set('Cache-Control', 'no-store')
  return res
}

const unavailable = (why: string, cause?: unknown): Refusal => {
  console.error(
    JSON.stringify({
      level: 'error',
      msg: `access verification failed: ${why}`,
      cause: cause instanceof Error ? `${cause.name}: ${cause.message}` : undefined,
    })
  )
  return refusal(
    503,
    'service_unavailable',
    'The auth service is unavailable; try again shortly.',
    {
      'Retry-After': '1',
    }
  )
}

/** The contract's 401 for a token the domain rules refused. */
const tokenRefusal = (error: InvalidAccessToken | AccessTokenExpired): Refusal =>
  error instanceof AccessTokenExpired
    ? refusal(401, 'token_expired', 'The access token has expired.', {
        'WWW-Authenticate': bearerChallenge(error.message),
      })
    : refusal(401, 'invalid_token', 'The access token is not valid.', {
        'WWW-Authenticate': bearerChallenge(error.message),
      })

const requirementsChecked = ({ maxAge, amr }: RouteRequirements): RouteRequirements => {
  if (maxAge !== undefined && !(Number.isInteger(maxAge) && maxAge >= 0)) {
    throw new TypeError('maxAge must be a whole number of seconds')
  }
  if (amr !== undefined && !(Array.isArray(amr) && amr.every((m) => typeof m === 'string'))) {
    throw new TypeError('amr must be a list of method names')
  }
  return { maxAge, amr }
}

/** RFC 9470: a valid token whose sign-in is too old, or lacks a method, asks for a new one. */
const stepUpRefusal = (auth: AuthContext, { maxAge, amr }: RouteRequirements): Refusal | null => {
  if (maxAge !== undefined && nowSeconds() - auth.authTime > maxAge) {
    return refusal(401, 'reauthentication_required', 'Sign in again to continue.', {
      'WWW-Authenticate': stepUpChallenge(maxAge),
    })
  }
  if (amr?.some((method) => !auth.amr.includes(method))) {
    return refusal(401, 'reauthentication_required', 'Sign in again to continue.', {
      'WWW-Authenticate': `Bearer error="insufficient_user_authentication", error_description="The sign-in lacks a required method"`,
    })
  }
  return null
}

type Verified = { auth: AuthContext; claims: AccessClaims; user?: PublicUser } | Refusal
type Verify = (c: Context, token: string) => Promise<Verified>

const overRpc =
  ({ service }: ServiceVerifierOptions): Verify =>
  async (c, token) => {
    let result: VerifiedAccess
    try {
      result = await service(c).verifyAccessToken(token)
    } catch (cause) {
      return unavailable('the Service Binding call failed', cause)
    }
    if (!result.ok) return result.error
    return { auth: result.auth, claims: result.claims, user: result.user }
  }

const withKeys = (options: JwksVerifierOptions): Verify => {
  const { issuer, audience = issuer } = options
  const keyFor = jwksKeys(options.jwks)
  const fetcherOf = options.jwks.fetcher ?? (() => ({ fetch: (url: string) => fetch(url) }))
  return async (c, token) => {
    try {
      const payload = await verifiedPayload(token, async (header) => {
        const key = await keyFor(header.kid, fetcherOf(c))
        // The key alone decides the algorithm (RFC 8725 §3.1): no alg: none, no HS256 with a
        // public key.
        if (header.alg !== key.alg) {
          throw new InvalidAccessToken("The token's algorithm does not match its key")
        }
        const cryptoKey = await publicKeyOf(key).catch((cause: unknown) => {
          throw new JwksUnavailable('a published key cannot be imported', { cause })
        })
        return { key: cryptoKey, params: signParamsOf(key.alg) }
      })
      const claims = checkAccessClaims(payload, { issuer, audience, now: nowSeconds() })
      const auth: AuthContext = {
        userId: claims.sub,
        sessionId: claims.sid,
        ...claimsProof(claims),
      }
      return { auth, claims }
    } catch (error) {
      if (error instanceof InvalidAccessToken || error instanceof AccessTokenExpired) {
        return tokenRefusal(error)
      }
      if (error instanceof JwksUnavailable) return unavailable(error.message, error.cause)
      throw error
    }
  }
}

/**
 * `accessVerifier(options)` once per Worker (the JWK set is cached with it), then
 * `verify()` or `verify({ maxAge: 600 })` on each route.
 */
export function accessVerifier(
  options: ServiceVerifierOptions
): (route?: RouteRequirements) => MiddlewareHandler<{ Variables: ServiceVerifiedVariables }>
export function accessVerifier(
  options: JwksVerifierOptions
): (route?: RouteRequirements) => MiddlewareHandler<{ Variables: VerifiedVariables }>
export function accessVerifier(options: ServiceVerifierOptions | JwksVerifierOptions) {
  const verify = 'service' in options ? overRpc(options) : withKeys(options)
  return (route: RouteRequirements = {}): MiddlewareHandler => {
    const requirements = requirementsChecked(route)
    return async function verifyAccess(c, next) {
      let token: string | null
      try {
        token = bearerToken(c.req.header('Authorization'))
      } catch (error) {
        return answer(c, tokenRefusal(error as InvalidAccessToken))
      }
      if (!token) {
        return answer(
          c,
          refusal(401, 'missing_token', 'This route needs an access token.', {
            'WWW-Authenticate': bearerChallenge(),
          })
        )
      }
      const verified = await verify(c, token)
      if ('status' in verified) return answer(c, verified)
      const stepUp = stepUpRefusal(verified.auth, requirements)
      if (stepUp) return answer(c, stepUp)
      c.set('auth', verified.auth)
      c.set('accessClaims', verified.claims)
      if (verified.user) c.set('user', verified.user)
      await next()
    }
  }
}
