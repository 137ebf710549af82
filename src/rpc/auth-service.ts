/**
 * The auth worker's named entrypoint for other Workers on a Service Binding
 * (`services = [{ binding = "AUTH", service = "edge-jwt-auth", entrypoint = "AuthService" }]`).
 * Each method is a thin shell over the services the HTTP routes call: it checks its input, calls
 * the domain, and turns every failure into the contract's error as data (src/rpc/types.ts).
 * No method starts a session: that needs a credential, which only the HTTP sign-in routes take.
 */
import { WorkerEntrypoint } from 'cloudflare:workers'
import type { Bindings } from '../env-options'
import { ApiError } from '../http/errors'
import { apiErrorOf } from '../http/handle-error'
import { presentSession } from '../http/present'
import { DependencyUnavailable } from '../ports'
import { servicesFromEnv } from '../worker-services'
import type { RpcFailure, RpcResult, SessionList, VerifiedAccess } from './types'

/** Ids are UUIDs; anything longer, or not printable ASCII, names nothing and is refused unread. */
const ID_PATTERN = /^[\x21-\x7e]{1,128}$/

const failure = (error: ApiError): RpcFailure => ({
  ok: false,
  error: { code: error.code, message: error.message, status: error.status, headers: error.headers },
})

const refused = (message: string) => failure(new ApiError('validation_failed', { message }))

const badId = (value: unknown) => typeof value !== 'string' || !ID_PATTERN.test(value)

/** The HTTP layer's own mapping, so that a caller sees the codes a client would; 5xx are logged. */
const failureOf = (thrown: unknown): RpcFailure => {
  const error = thrown instanceof Error ? thrown : new Error(String(thrown))
  const mapped =
    apiErrorOf(error) ??
    new ApiError(
      error instanceof DependencyUnavailable ? 'service_unavailable' : 'internal_error',
      {
        headers: error instanceof DependencyUnavailable ? { 'Retry-After': '1' } : {},
      }
    )
  if (mapped.status >= 500) {
    console.error(JSON.stringify({ level: 'error', msg: 'rpc failure', error: error.name }))
  }
  return failure(mapped)
}

export class AuthService extends WorkerEntrypoint<Bindings> {
  /** For a resource server: who an access token acts for, if its session is live. */
  async verifyAccessToken(token: string): Promise<VerifiedAccess> {
    if (typeof token !== 'string' || token === '') return refused('token must be a string')
    try {
      const services = servicesFromEnv(this.env)
      const { userId, sessionId, amr, authTime, user, claims } =
        await services.sessions.authenticate(token)
      return {
        ok: true,
        auth: { userId, sessionId, amr, authTime },
        user,
        claims,
        sessionCheck: services.options.sessionCheck,
      }
    } catch (error) {
      return failureOf(error)
    }
  }

  /** For a trusted back office: ends one session of a user (not_found when it is not theirs). */
  async revokeSession(userId: string, sessionId: string): Promise<RpcResult> {
    if (badId(userId) || badId(sessionId)) return refused('userId and sessionId must be ids')
    try {
      const services = servicesFromEnv(this.env)
      const ended = await services.sessions.end(userId, { only: sessionId })
      if (ended === 0) return failure(new ApiError('not_found', { message: 'No such session.' }))
      // As DELETE /auth/sessions/:id records it; no client request, so no origin. Best effort.
      this.ctx.waitUntil(
        services.events.record(
          { type: 'session_revoked', userId, sessionId },
          { ip: null, userAgent: null, country: null }
        )
      )
      return { ok: true }
    } catch (error) {
      return failureOf(error)
    }
  }

  /** For a trusted back office: a user's live sessions, as GET /auth/sessions shows them. */
  async listSessions(userId: string): Promise<SessionList> {
    if (badId(userId)) return refused('userId must be an id')
    try {
      const rows = await servicesFromEnv(this.env).sessions.list(userId)
      return {
        ok: true,
        sessions: rows.map((row) => {
          const { current: _current, ...session } = presentSession(row, '')
          return session
        }),
      }
    } catch (error) {
      return failureOf(error)
    }
  }
}
