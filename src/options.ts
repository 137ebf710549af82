/**
 * Everything a deployment can tune, in one object with today's defaults. The Worker entry parses
 * its env into it (src/env-options.ts); a host app or a test builds it with `authOptions()`.
 */
import { DEFAULT_POLICY } from './auth/password'
import type { PasswordPolicy } from './auth/password'
import type { Signer } from './auth/signer'
import type { FailureWindow, MessageBudget, OneTimePurpose } from './ports'

export const MAIL_TRANSPORTS = ['cloudflare', 'http', 'outbox'] as const
export type MailTransportName = (typeof MAIL_TRANSPORTS)[number]

export interface MailOptions {
  /** MAIL_TRANSPORT; undefined when none is configured: mail is off (nothing is sent, it is logged). */
  transport?: MailTransportName
  /** APP_URL: the page the links in messages open, without a trailing slash. */
  appUrl?: string
  /** MAIL_FROM: the sender, `address` or `Name <address>`. */
  from?: string
  /** MAIL_API_URL: the HTTP mail API's endpoint (a Resend-shaped JSON API by default). */
  apiUrl: string
  /** MAIL_API_KEY, for MAIL_TRANSPORT=http. */
  apiKey?: string
  /** The send_email binding, for MAIL_TRANSPORT=cloudflare. */
  sendEmail?: SendEmail
}

const LOOPBACK_HOST = /^(localhost|127\.0\.0\.1|\[::1\])$/

export const isLoopbackHost = (hostname: string): boolean => LOOPBACK_HOST.test(hostname)

/**
 * The outbox keeps raw one-time tokens in D1, so it runs only where APP_URL (already validated)
 * is a loopback host: never in a deployment.
 */
export const outboxAllowed = (mail: MailOptions): boolean =>
  mail.appUrl !== undefined && isLoopbackHost(new URL(mail.appUrl).hostname)

export const SESSION_CHECKS = ['primary', 'replica'] as const
export type SessionCheck = (typeof SESSION_CHECKS)[number]

/** The longest refresh reuse grace the contract allows (at most 10 s). */
export const MAX_REUSE_GRACE = 10

/** Policy constants a deployer may tune; the defaults are the contract's. */
export interface AuthLimits {
  /** Failed logins per account in a window before 429 (10 in 15 minutes). */
  loginFailures: FailureWindow
  /**
   * Messages of one purpose (reset or verification) per account in a window: 3 in 30 minutes. The
   * window is no longer than a reset link's lifetime, so that whenever it refuses to send, the
   * earliest link it counted still works; and each purpose has its own count, so that verification
   * requests never spend the reset budget.
   */
  mailBudget: MessageBudget
  /** How long a one-time link works, per purpose (30 minutes, 24 hours). */
  oneTimeTokenLifetime: Record<OneTimePurpose, number>
  /** The largest request body (16 KiB). */
  maxBodyBytes: number
  /** How long one D1 or KV call may take before the request answers 503 (5 s). */
  storageTimeoutMs: number
}

const RESET_LINK_LIFETIME = 30 * 60

export const DEFAULT_LIMITS: AuthLimits = {
  loginFailures: { limit: 10, windowSeconds: 15 * 60 },
  mailBudget: { limit: 3, windowSeconds: RESET_LINK_LIFETIME },
  oneTimeTokenLifetime: { password_reset: RESET_LINK_LIFETIME, email_verification: 24 * 60 * 60 },
  maxBodyBytes: 16 * 1024,
  storageTimeoutMs: 5_000,
}

export interface AuthOptions {
  issuer: string
  /** JWT_AUDIENCE: the access token's `aud`, checked on every verify (the issuer by default). */
  audience: string
  accessTokenTtl: number
  refreshTokenTtl: number
  /** SESSION_MAX_AGE: seconds from login after which no refresh extends the session. */
  sessionMaxAge: number
  /** Seconds during which a just-rotated refresh token still yields its successor (racing clients). */
  reuseGraceSeconds: number
  corsOrigins: string[]
  /**
   * JWT_ALGORITHM: HS256 (JWT_SECRET) by default, or EdDSA / ES256 (JWT_PRIVATE_KEYS, signing with
   * JWT_ACTIVE_KID or else the first key). Validated lazily: see auth/signer.ts.
   */
  signer: Signer
  /** Cookie mode: an access cookie this close to its expiry (seconds) is renewed in passing. */
  accessRefreshMargin: number
  /** PASSWORD_HASH: how new password hashes are made (pbkdf2-sha256 by default, or scrypt). */
  passwordPolicy: PasswordPolicy<unknown>
  /**
   * SESSION_CHECK: where the per-request session check reads. `primary` (default): the D1 primary,
   * so a revocation holds everywhere on the next request. `replica`: the nearest D1 read replica,
   * one long round trip fewer far from the primary, and a revoked session's access token may pass
   * for as long as that replica lags (docs/scaling.md); refresh and every write stay on the primary.
   */
  sessionCheck: SessionCheck
  /** Account recovery and email verification (docs/recovery.md). */
  mail: MailOptions
  /** REQUIRE_EMAIL_VERIFICATION: no tokens until the address is verified. */
  requireEmailVerification: boolean
  /**
   * GET /dev/outbox exists: DEV_OUTBOX=on with MAIL_TRANSPORT=outbox on a loopback APP_URL (local
   * development only).
   */
  devOutbox: boolean
  /** The static assets (public/: the API reference page, openapi.json); unset in a host app. */
  assets?: Fetcher
  /** A Workers rate limiter for the routes that hash or mail. */
  clientRateLimit?: RateLimit
  /**
   * Without `clientRateLimit`, those routes answer 500 server_misconfigured instead of running
   * unlimited (CLIENT_RATE_LIMIT_MODE=required, the Worker's default); false in a host app that
   * limits clients itself, in local development and in the tests.
   */
  clientRateLimitRequired: boolean
  limits: AuthLimits
}

export const DEFAULT_ISSUER = 'edge-jwt-auth'

/** Options with the contract's defaults; `signer` is the one thing without a default. */
export const authOptions = (
  given: Partial<AuthOptions> & Pick<AuthOptions, 'signer'>
): AuthOptions => {
  const issuer = given.issuer ?? DEFAULT_ISSUER
  return {
    issuer,
    audience: issuer,
    accessTokenTtl: 900,
    refreshTokenTtl: 2_592_000,
    sessionMaxAge: 7_776_000,
    reuseGraceSeconds: 10,
    corsOrigins: [],
    accessRefreshMargin: 60,
    passwordPolicy: DEFAULT_POLICY,
    sessionCheck: 'primary',
    mail: { apiUrl: 'https://api.resend.com/emails' },
    requireEmailVerification: false,
    devOutbox: false,
    clientRateLimitRequired: false,
    ...given,
    limits: { ...DEFAULT_LIMITS, ...given.limits },
  }
}
