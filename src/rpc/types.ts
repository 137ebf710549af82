/**
 * What the auth worker's RPC methods answer (src/rpc/auth-service.ts), as plain data: an error
 * thrown across a Service Binding loses its class and its fields, so every method returns a
 * result that says `ok` or carries the contract's error, never throws one.
 */
import type { AccessClaims } from '../auth/access-token'
import type { AuthContext } from '../env'
import type { ErrorCode } from '../http/errors'
import type { SessionCheck } from '../options'
import type { PublicUser } from '../ports'

/** The contract's error, as the HTTP API would answer it: its code, status and headers. */
export interface RpcError {
  code: ErrorCode
  message: string
  status: number
  /** WWW-Authenticate on the 401s, Retry-After on a 503: a caller can answer with them as they are. */
  headers: Record<string, string>
}

export interface RpcFailure {
  ok: false
  error: RpcError
}

export type RpcResult<T extends object = object> = ({ ok: true } & T) | RpcFailure

/** A live session's access token: the same checks as requireAuth, revocation included. */
export type VerifiedAccess = RpcResult<{
  auth: AuthContext
  user: PublicUser
  claims: AccessClaims
  /** Where liveness was read (SESSION_CHECK): "replica" may lag a revocation (docs/scaling.md). */
  sessionCheck: SessionCheck
}>

/** A session as GET /auth/sessions lists it, without `current` (there is no current one here). */
export interface SessionSummary {
  id: string
  created_at: string
  last_used_at: string | null
  expires_at: string
  user_agent: string | null
}

export type SessionList = RpcResult<{ sessions: SessionSummary[] }>
