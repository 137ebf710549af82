/**
 * Maps every failure to the contract's error shape, in one place: the named errors of auth/ and
 * store/ become the contract's codes, statuses and headers; internals go to the log, never the
 * client.
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
  InvalidOneTimeToken,
  InvalidRefreshToken,
  LoginThrottled,
  Misconfigured,
  SessionEnded,
  WrongPassword,
} from '../auth/errors'
import type { AppEnv } from '../env'
import { DependencyUnavailable } from '../store/guard'
import { ApiError, bearerChallenge, renderApiError } from './errors'

const fromHttpException = (error: HTTPException): ApiError => {
  if (error.status === 413) return new ApiError('payload_too_large')
  if (error.status === 415) return new ApiError('unsupported_media_type')
  if (error.status === 400) return new ApiError('invalid_json')
  return new ApiError('internal_error')
}

const challenged = (code: 'invalid_token' | 'token_expired' | 'token_revoked', why: string) =>
  new ApiError(code, { headers: { 'WWW-Authenticate': bearerChallenge(why) } })

/** The contract's answer to a domain failure of auth/; null for anything else. */
export const apiErrorOf = (error: Error): ApiError | null => {
  if (error instanceof ApiError) return error
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
  if (error instanceof AccountChangedMeanwhile) {
    return new ApiError('service_unavailable', {
      message: 'The account changed meanwhile; try again.',
    })
  }
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

export const handleError = (error: Error, c: Context<AppEnv>): Response => {
  const apiError = apiErrorOf(error)
  if (apiError) {
    if (apiError.status >= 500) logFailure(c, apiError, apiError.cause)
    return renderApiError(c, apiError)
  }
  if (error instanceof DependencyUnavailable) {
    logFailure(c, error, error.cause)
    c.header('Retry-After', '1')
    return renderApiError(c, new ApiError('service_unavailable'))
  }
  if (error instanceof HTTPException) return renderApiError(c, fromHttpException(error))
  logFailure(c, new Error('unexpected failure'), error)
  return renderApiError(c, new ApiError('internal_error'))
}
