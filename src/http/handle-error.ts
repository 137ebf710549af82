/**
 * Maps every failure to the contract's error shape, in one place: the named errors of auth/, of
 * the features and of the ports become the contract's codes, statuses and headers; internals go
 * to the log, never the client.
 */
import type { Context } from 'hono'
import { HTTPException } from 'hono/http-exception'
import {
  AccessTokenExpired,
  AccountChangedMeanwhile,
  EmailNotVerified,
  EmailTaken,
  InvalidAccessToken,
  InvalidCredentials,
  InvalidCursor,
  InvalidMfaToken,
  InvalidOneTimeToken,
  InvalidRefreshToken,
  LoginThrottled,
  Misconfigured,
  SessionEnded,
  WrongPassword,
  WrongSecondFactor,
} from '../auth/errors'
import type { AppEnv } from '../env'
import { DependencyUnavailable } from '../ports'
import { ApiError, bearerChallenge, errorMessage, renderApiError } from './errors'
import type { ErrorCode } from './errors'

/** A limiter that does not say when it reopens gets the longest window the app's own ones use. */
const DEFAULT_RETRY_AFTER_SECONDS = 60

/** A client error is answered, a server one logged: whichever middleware raised it. */
const fromHttpException = (error: HTTPException, c: Context<AppEnv>): ApiError => {
  const { status } = error
  // Any middleware that challenges for credentials (hono/bearer-auth, hono/jwt, a custom one)
  // puts a WWW-Authenticate on its response: that is the contract's 401, whatever its status.
  if (status === 401 || error.res?.headers.has('WWW-Authenticate')) {
    const tokenSent = c.req.header('Authorization') !== undefined
    return new ApiError(tokenSent ? 'invalid_token' : 'missing_token', {
      headers: {
        'WWW-Authenticate': tokenSent
          ? bearerChallenge('The access token was rejected')
          : bearerChallenge(),
      },
    })
  }
  if (status === 400) {
    return new ApiError(/json/i.test(error.message) ? 'invalid_json' : 'validation_failed')
  }
  if (status === 403) return new ApiError('forbidden')
  if (status === 404) return new ApiError('not_found')
  if (status === 405) {
    const allow = error.res?.headers.get('Allow')
    return new ApiError('method_not_allowed', { headers: allow ? { Allow: allow } : {} })
  }
  if (status === 413) return new ApiError('payload_too_large')
  if (status === 415) return new ApiError('unsupported_media_type')
  if (status === 429) {
    const retryAfter = error.res?.headers.get('Retry-After') ?? String(DEFAULT_RETRY_AFTER_SECONDS)
    return new ApiError('too_many_requests', { headers: { 'Retry-After': retryAfter } })
  }
  if (status === 503) {
    return new ApiError('service_unavailable', { headers: { 'Retry-After': '1' }, cause: error })
  }
  // Any other client error (408, 409, 422...) has no code of its own: the request was not valid.
  if (status < 500) return new ApiError('validation_failed')
  return new ApiError('internal_error', { cause: error })
}

const challenged = (code: 'invalid_token' | 'token_expired' | 'token_revoked', why: string) =>
  new ApiError(code, { headers: { 'WWW-Authenticate': bearerChallenge(why) } })

/** A feature's mapping of its own domain errors; null for an error that is not its own. */
export type ErrorMapper = (error: Error) => ApiError | null

const featureMappers = new Set<ErrorMapper>()

/** createAuth registers each feature's mapper; a Set, as every createAuth of an isolate may. */
export const registerErrorMapper = (mapper: ErrorMapper): void => {
  featureMappers.add(mapper)
}

/** The contract's answer to a domain failure of auth/ or of a feature; null for anything else. */
export const apiErrorOf = (error: Error): ApiError | null => {
  if (error instanceof ApiError) return error
  for (const mapper of featureMappers) {
    const mapped = mapper(error)
    if (mapped) return mapped
  }
  if (error instanceof InvalidAccessToken) return challenged('invalid_token', error.message)
  if (error instanceof AccessTokenExpired) return challenged('token_expired', error.message)
  if (error instanceof SessionEnded) return challenged('token_revoked', 'The session has ended')
  if (error instanceof InvalidRefreshToken) {
    return new ApiError('invalid_refresh_token', { message: error.detail })
  }
  if (error instanceof InvalidCredentials) return new ApiError('invalid_credentials')
  // The contract gives this code two statuses: 403 when a signed-in user mistypes a password.
  if (error instanceof WrongPassword) {
    return new ApiError('invalid_credentials', { status: 403, message: 'The password is wrong.' })
  }
  if (error instanceof LoginThrottled) {
    return new ApiError('too_many_requests', {
      message: 'Too many failed sign-ins for this account; try again later.',
      headers: { 'Retry-After': String(error.retryAfter) },
    })
  }
  if (error instanceof EmailTaken) return new ApiError('email_taken')
  if (error instanceof EmailNotVerified) return new ApiError('email_not_verified')
  if (error instanceof InvalidOneTimeToken) return new ApiError('invalid_one_time_token')
  if (error instanceof InvalidCursor) {
    return new ApiError('validation_failed', { details: { cursor: 'Not a cursor of this list' } })
  }
  if (error instanceof AccountChangedMeanwhile) {
    return new ApiError('service_unavailable', {
      message: 'The account changed meanwhile; try again.',
    })
  }
  if (error instanceof WrongSecondFactor) return new ApiError(error.code)
  if (error instanceof InvalidMfaToken) return new ApiError('invalid_mfa_token')
  if (error instanceof Misconfigured) {
    return new ApiError('server_misconfigured', { cause: error.cause ?? error })
  }
  return null
}

const logFailure = (c: Context<AppEnv>, error: Error, cause: unknown) => {
  console.error(
    JSON.stringify({
      level: 'error',
      msg: error.message,
      request_id: c.get('requestId'),
      error: error.name,
      // The cause's name and message only: D1 messages quote SQL, never bound values.
      cause: cause instanceof Error ? `${cause.name}: ${cause.message}` : undefined,
    })
  )
}

/** RFC 6750 §3: every 401 of a protected route says how to authenticate. */
const TOKEN_CODES = new Set<ErrorCode>([
  'missing_token',
  'invalid_token',
  'token_expired',
  'token_revoked',
])

/**
 * A rejected access token, the failure a stranger can cause at will: answered straight from the
 * domain error, with no ApiError built and no line logged, so that it costs no more than the
 * same route accepting a valid token.
 */
const tokenFailureOf = (error: Error): readonly [ErrorCode, string] | null => {
  if (error instanceof InvalidAccessToken) return ['invalid_token', error.message]
  if (error instanceof AccessTokenExpired) return ['token_expired', error.message]
  if (error instanceof SessionEnded) return ['token_revoked', 'The session has ended']
  return null
}

export const handleError = (error: Error, c: Context<AppEnv>): Response => {
  const tokenFailure = tokenFailureOf(error)
  if (tokenFailure) {
    const [code, why] = tokenFailure
    return c.json({ error: code, message: errorMessage(code) }, 401, {
      'WWW-Authenticate': bearerChallenge(why),
    })
  }
  const apiError = apiErrorOf(error)
  if (apiError) {
    if (apiError.status >= 500) logFailure(c, apiError, apiError.cause)
    if (TOKEN_CODES.has(apiError.code) && apiError.headers['WWW-Authenticate'] === undefined) {
      c.header('WWW-Authenticate', bearerChallenge(apiError.message))
    }
    return renderApiError(c, apiError)
  }
  if (error instanceof DependencyUnavailable) {
    logFailure(c, error, error.cause)
    c.header('Retry-After', '1')
    return renderApiError(c, new ApiError('service_unavailable'))
  }
  if (error instanceof HTTPException) {
    const mapped = fromHttpException(error, c)
    if (mapped.status >= 500) logFailure(c, mapped, error)
    return renderApiError(c, mapped)
  }
  logFailure(c, new Error('unexpected failure'), error)
  return renderApiError(c, new ApiError('internal_error'))
}
