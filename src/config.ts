/**
 * Reads and validates configuration once per env object, with the contract's defaults. The HTTP
 * edge reads it and passes it into auth/; the signing secret inside is checked only when used.
 */
import { Misconfigured } from './auth/errors'
import { DEFAULT_POLICY_NAME, PASSWORD_POLICIES, policyNamed } from './auth/password'
import type { PasswordPolicy } from './auth/password'
import { lazySigner } from './auth/signer'
import type { Signer } from './auth/signer'
import { SIGNING_ALGORITHMS } from './auth/signing-keys'
import type { SigningAlgorithm } from './auth/signing-keys'
import type { Bindings } from './env'
import { KV_MIN_TTL } from './store/refresh-tokens'

export interface AppConfig {
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
  mail: MailConfig
  /** REQUIRE_EMAIL_VERIFICATION: no tokens until the address is verified. */
  requireEmailVerification: boolean
  /**
   * GET /dev/outbox exists: DEV_OUTBOX=on with MAIL_TRANSPORT=outbox on a loopback APP_URL (local
   * development only).
   */
  devOutbox: boolean
}

export const MAIL_TRANSPORTS = ['cloudflare', 'http', 'outbox'] as const
export type MailTransportName = (typeof MAIL_TRANSPORTS)[number]

export interface MailConfig {
  /** MAIL_TRANSPORT; undefined when none is configured: mail is off (nothing is sent, it is logged). */
  transport?: MailTransportName
  /** APP_URL: the page the links in messages open, without a trailing slash. */
  appUrl?: string
  /** MAIL_FROM: the sender, `address` or `Name <address>`. */
  from?: string
  /** MAIL_API_URL: the HTTP mail API's endpoint (a Resend-shaped JSON API by default). */
  apiUrl: string
}

export const SESSION_CHECKS = ['primary', 'replica'] as const
export type SessionCheck = (typeof SESSION_CHECKS)[number]

export const MAX_REUSE_GRACE = 10

const DEFAULTS = {
  ACCESS_TOKEN_TTL: 900,
  REFRESH_TOKEN_TTL: 2_592_000,
  SESSION_MAX_AGE: 7_776_000,
  REFRESH_REUSE_GRACE: 10,
  ACCESS_REFRESH_MARGIN: 60,
  JWT_ISSUER: 'edge-jwt-auth',
  JWT_ALGORITHM: 'HS256' as SigningAlgorithm,
}

const DEFAULT_MAIL_API_URL = 'https://api.resend.com/emails'
const LOOPBACK_HOST = /^(localhost|127\.0\.0\.1|\[::1\])$/

const readSeconds = (raw: unknown, fallback: number, name: string, min: number, max: number) => {
  if (raw === undefined || raw === '') return fallback
  const value = Number(raw)
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Misconfigured(`${name} must be an integer between ${min} and ${max}`)
  }
  return value
}

const readAlgorithm = (raw: unknown): SigningAlgorithm => {
  if (raw === undefined || raw === '') return DEFAULTS.JWT_ALGORITHM
  const algorithm = SIGNING_ALGORITHMS.find((name) => name === raw)
  if (!algorithm) {
    throw new Misconfigured(`JWT_ALGORITHM must be one of ${SIGNING_ALGORITHMS.join(', ')}`)
  }
  return algorithm
}

const readPasswordPolicy = (raw: unknown): PasswordPolicy<unknown> => {
  const policy = policyNamed(typeof raw === 'string' && raw !== '' ? raw : DEFAULT_POLICY_NAME)
  if (!policy) {
    throw new Misconfigured(
      `PASSWORD_HASH must be one of ${Object.keys(PASSWORD_POLICIES).join(', ')}`
    )
  }
  return policy
}

const readFlag = (raw: unknown, name: string): boolean => {
  if (raw === undefined || raw === '' || raw === 'false') return false
  if (raw === 'true') return true
  throw new Misconfigured(`${name} must be true or false`)
}

/** An absolute https URL (http only on a loopback host), with no query or fragment. */
const readUrl = (raw: unknown, name: string): string | undefined => {
  if (raw === undefined || raw === '') return undefined
  let url: URL | null = null
  try {
    url = new URL(typeof raw === 'string' ? raw : '')
  } catch {
    url = null
  }
  const secure =
    url?.protocol === 'https:' || (url?.protocol === 'http:' && LOOPBACK_HOST.test(url.hostname))
  if (!url || !secure || url.search !== '' || url.hash !== '' || url.username !== '') {
    throw new Misconfigured(`${name} must be an https URL without query or fragment`)
  }
  return url.href.replace(/\/+$/, '')
}

/**
 * The outbox keeps raw one-time tokens in D1, so it runs only where APP_URL (already validated)
 * is a loopback host: never in a deployment.
 */
export const outboxAllowed = (mail: MailConfig): boolean =>
  mail.appUrl !== undefined && LOOPBACK_HOST.test(new URL(mail.appUrl).hostname)

/** `address` or `Name <address>`; line breaks would let the value inject mail headers. */
const MAIL_FROM_SHAPE = /^(?:[^<>\r\n"]*<[^\s@<>]+@[^\s@<>]+>|[^\s@<>]+@[^\s@<>]+)$/

const readMailConfig = (env: Bindings): MailConfig => {
  const rawTransport = env.MAIL_TRANSPORT ?? ''
  const transport = MAIL_TRANSPORTS.find((name) => name === rawTransport)
  if (rawTransport !== '' && !transport) {
    throw new Misconfigured(`MAIL_TRANSPORT must be one of ${MAIL_TRANSPORTS.join(', ')}`)
  }
  const from = env.MAIL_FROM || undefined
  if (from !== undefined && !MAIL_FROM_SHAPE.test(from)) {
    throw new Misconfigured('MAIL_FROM must be an address or "Name <address>"')
  }
  return {
    transport,
    appUrl: readUrl(env.APP_URL, 'APP_URL'),
    from,
    apiUrl: readUrl(env.MAIL_API_URL, 'MAIL_API_URL') ?? DEFAULT_MAIL_API_URL,
  }
}

/**
 * CORS_ORIGINS: a comma-separated list of exact origins (`https://app.example.com`). `null`, `*`,
 * a path or a trailing slash would either trust any sandboxed page or never match a browser's
 * Origin header, so each is refused as a misconfiguration rather than silently ignored.
 */
const readOrigins = (raw: string | undefined): string[] => {
  const listed = (raw ?? '')
    .split(',')
    .map((origin) => origin.trim())
    .filter(Boolean)
  for (const origin of listed) {
    let parsed: URL | null = null
    try {
      parsed = new URL(origin)
    } catch {
      // reported below
    }
    const exact =
      parsed !== null &&
      (parsed.protocol === 'https:' || parsed.protocol === 'http:') &&
      parsed.origin === origin
    if (!exact) {
      throw new Misconfigured(
        `CORS_ORIGINS must list exact origins such as https://app.example.com, not ${JSON.stringify(origin)}`
      )
    }
  }
  return listed
}

const readSessionCheck = (raw: unknown): SessionCheck => {
  if (raw === undefined || raw === '') return 'primary'
  const mode = SESSION_CHECKS.find((name) => name === raw)
  if (!mode) throw new Misconfigured(`SESSION_CHECK must be one of ${SESSION_CHECKS.join(', ')}`)
  return mode
}

const readDevOutbox = (env: Bindings, mail: MailConfig): boolean =>
  env.DEV_OUTBOX === 'on' && mail.transport === 'outbox' && outboxAllowed(mail)

const parseConfig = (env: Bindings): AppConfig => {
  const mail = readMailConfig(env)
  return {
    signer: lazySigner(readAlgorithm(env.JWT_ALGORITHM), env.JWT_ACTIVE_KID || undefined, env),
    issuer: env.JWT_ISSUER || DEFAULTS.JWT_ISSUER,
    audience: env.JWT_AUDIENCE || env.JWT_ISSUER || DEFAULTS.JWT_ISSUER,
    accessTokenTtl: readSeconds(
      env.ACCESS_TOKEN_TTL,
      DEFAULTS.ACCESS_TOKEN_TTL,
      'ACCESS_TOKEN_TTL',
      1,
      86_400
    ),
    refreshTokenTtl: readSeconds(
      env.REFRESH_TOKEN_TTL,
      DEFAULTS.REFRESH_TOKEN_TTL,
      'REFRESH_TOKEN_TTL',
      KV_MIN_TTL,
      31_536_000
    ),
    sessionMaxAge: readSeconds(
      env.SESSION_MAX_AGE,
      DEFAULTS.SESSION_MAX_AGE,
      'SESSION_MAX_AGE',
      KV_MIN_TTL,
      10 * 31_536_000
    ),
    reuseGraceSeconds: readSeconds(
      env.REFRESH_REUSE_GRACE,
      DEFAULTS.REFRESH_REUSE_GRACE,
      'REFRESH_REUSE_GRACE',
      0,
      MAX_REUSE_GRACE
    ),
    accessRefreshMargin: readSeconds(
      env.ACCESS_REFRESH_MARGIN,
      DEFAULTS.ACCESS_REFRESH_MARGIN,
      'ACCESS_REFRESH_MARGIN',
      0,
      3600
    ),
    passwordPolicy: readPasswordPolicy(env.PASSWORD_HASH),
    mail,
    requireEmailVerification: readFlag(
      env.REQUIRE_EMAIL_VERIFICATION,
      'REQUIRE_EMAIL_VERIFICATION'
    ),
    devOutbox: readDevOutbox(env, mail),
    sessionCheck: readSessionCheck(env.SESSION_CHECK),
    corsOrigins: readOrigins(env.CORS_ORIGINS),
  }
}

// The env object is stable for an isolate's life, so parsing it once per object is safe.
const parsed = new WeakMap<object, AppConfig>()

export const readConfig = (env: Bindings): AppConfig => {
  let config = parsed.get(env)
  if (!config) {
    config = parseConfig(env)
    parsed.set(env, config)
  }
  return config
}
