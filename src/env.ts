/** The per-request variables every route and middleware reads (`c.var`), set by the app itself. */
import type { PublicUser } from './ports'
import type { AuthServices } from './services'

/** Who a protected request acts for: set by requireAuth from the verified access token. */
export interface AuthContext {
  userId: string
  sessionId: string
  /** The presented access token's `amr`: how its user proved who they are, in order. */
  amr: string[]
  /** The presented access token's `auth_time` (seconds): for routes that need a fresh proof. */
  authTime: number
}

/** How a request uses cookies, decided once per request by http/cookies.ts. */
export interface CookieMode {
  /** `X-Auth-Mode: cookie`: register, login and refresh answer with cookies instead of tokens. */
  requested: boolean
  /** No Authorization header at all and one of our cookies sent: the cookies are the credentials. */
  authenticates: boolean
  /** Our two cookies' values, read in one pass over the Cookie header. */
  accessCookie?: string
  refreshCookie?: string
  /** The device cookie: read by login only, never a credential of its own. */
  deviceCookie?: string
}

export interface Variables {
  requestId: string
  cookieMode: CookieMode
  auth: AuthContext
  /** The signed-in user's profile, read by requireAuth in the same query as the session. */
  user: PublicUser
  /** The domain, built once by the composition root (src/create-auth.ts). */
  services: AuthServices
  /** The sanitized User-Agent, once read (src/http/user-agent.ts). */
  userAgent: string | null
}

export interface AppEnv {
  // The host's bindings are its own: nothing in the app reads them (the entry does).
  Bindings: object
  Variables: Variables
}
