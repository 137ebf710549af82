/** Maps every failure to the contract's error shape; internals go to the log, never the client. */
import type { Context } from 'hono'
import { HTTPException } from 'hono/http-exception'
import type { AppEnv } from '../env'
import { DependencyUnavailable } from '../store/guard'
import { ApiError, renderApiError } from './errors'

const fromHttpException = (error: HTTPException): ApiError => {
  if (error.status === 413) return new ApiError('payload_too_large')
  if (error.status === 415) return new ApiError('unsupported_media_type')
  if (error.status === 400) return new ApiError('invalid_json')
  return new ApiError('internal_error')
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
  if (error instanceof ApiError) {
    if (error.status >= 500) logFailure(c, error, error.cause)
    return renderApiError(c, error)
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
