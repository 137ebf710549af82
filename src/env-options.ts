/**
 * The Worker entry's half of configuration: parses and validates the Worker env once per env
 * object into AuthOptions, with the contract's defaults. Nothing but the entry reads the env; the
 * signing secret inside is checked only when used.
 */
import { KV_MIN_TTL } from './adapters/kv/refresh-index'
import { Misconfigured } from './auth/errors'
import { DEFAULT_POLICY_NAME, PASSWORD_POLICIES, policyNamed } from './auth/password'
import type { PasswordPolicy } from './auth/password'
import { lazySigner } from './auth/signer'
import { SIGNING_ALGORITHMS } from './auth/signing-keys'
import type { SigningAlgorithm } from './auth/signing-keys'
import {
  DEFAULT_ISSUER,
  DEFAULT_LIMITS,
  MAIL_TRANSPORTS,
  MAX_REUSE_GRACE,
  SESSION_CHECKS,
  isLoopbackHost,
  outboxAllowed,
} from './options'
import type { AuthOptions, MailOptions, SessionCheck } from './options'

/** `Env` comes from worker-configuration.d.ts; the secret is optional because a deployment may lack it. */
export type Bindings = Omit<Env, 'JWT_SECRET' | 'CLIENT_RATE_LIMIT'> & {
  JWT_SECRET?: string
  /** The private JWK set for EdDSA / ES256 (a secret, like JWT_SECRET); unused with HS256. */
  JWT_PRIVATE_KEYS?: string
  /** The per-client limiter wrangler.toml declares (http/client-rate-limit); absent is a misconfiguration unless CLIENT_RATE_LIMIT_MODE=off. */
  CLIENT_RATE_LIMIT?: RateLimit
  /** The HTTP mail API's key, for MAIL_TRANSPORT=http (a secret). */
  MAIL_API_KEY?: string
}

const DEFAULTS = {
  ACCESS_TOKEN_TTL: 900,
  REFRESH_TOKEN_TTL: 2_592_000,
  SESSION_MAX_AGE: 7_776_000,
  REFRESH_REUSE_GRACE: 10,
  ACCESS_REFRESH_MARGIN: 60,
  JWT_ISSUER: DEFAULT_ISSUER,
  JWT_ALGORITHM: 'HS256' as SigningAlgorithm,
}

const DEFAULT_MAIL_API_URL = 'https://api.resend.com/emails'

export const readInteger = (
  raw: unknown,
  fallback: number,
  name: string,
  min: number,
  max: number
) => {
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
    url?.protocol === 'https:' || (url?.protocol === 'http:' && isLoopbackHost(url.hostname))
  if (!url || !secure || url.search !== '' || url.hash !== '' || url.username !== '') {
    throw new Misconfigured(`${name} must be an https URL without query or fragment`)
  }
  return url.href.replace(/\/+$/, '')
}

/** `address` or `Name <address>`; line breaks would let the value inject mail headers. */
const MAIL_FROM_SHAPE = /^(?:[^<>\r\n"]*<[^\s@<>]+@[^\s@<>]+>|[^\s@<>]+@[^\s@<>]+)$/

const readMailOptions = (env: Bindings): MailOptions => {
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
    apiKey: env.MAIL_API_KEY || undefined,
    sendEmail: env.EMAIL,
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

/**
 * CLIENT_RATE_LIMIT_MODE: `required` (the default, and wrangler.toml's) or `off` (local development
 * and the tests). `off` ignores any binding, so that a simulated limiter never refuses a test.
 */
const readClientRateLimit = (
  env: Bindings
): Pick<AuthOptions, 'clientRateLimit' | 'clientRateLimitRequired'> => {
  const mode = env.CLIENT_RATE_LIMIT_MODE || 'required'
  if (mode === 'off') return { clientRateLimitRequired: false }
  if (mode !== 'required') throw new Misconfigured('CLIENT_RATE_LIMIT_MODE must be required or off')
  return { clientRateLimit: env.CLIENT_RATE_LIMIT, clientRateLimitRequired: true }
}

const readDevOutbox = (env: Bindings, mail: MailOptions): boolean =>
  env.DEV_OUTBOX === 'on' && mail.transport === 'outbox' && outboxAllowed(mail)

const parseOptions = (env: Bindings): AuthOptions => {
  const mail = readMailOptions(env)
  return {
    signer: lazySigner(readAlgorithm(env.JWT_ALGORITHM), env.JWT_ACTIVE_KID || undefined, env),
    issuer: env.JWT_ISSUER || DEFAULTS.JWT_ISSUER,
    audience: env.JWT_AUDIENCE || env.JWT_ISSUER || DEFAULTS.JWT_ISSUER,
    accessTokenTtl: readInteger(
      env.ACCESS_TOKEN_TTL,
      DEFAULTS.ACCESS_TOKEN_TTL,
      'ACCESS_TOKEN_TTL',
      1,
      86_400
    ),
    refreshTokenTtl: readInteger(
      env.REFRESH_TOKEN_TTL,
      DEFAULTS.REFRESH_TOKEN_TTL,
      'REFRESH_TOKEN_TTL',
      KV_MIN_TTL,
      31_536_000
    ),
    sessionMaxAge: readInteger(
      env.SESSION_MAX_AGE,
      DEFAULTS.SESSION_MAX_AGE,
      'SESSION_MAX_AGE',
      KV_MIN_TTL,
      10 * 31_536_000
    ),
    reuseGraceSeconds: readInteger(
      env.REFRESH_REUSE_GRACE,
      DEFAULTS.REFRESH_REUSE_GRACE,
      'REFRESH_REUSE_GRACE',
      0,
      MAX_REUSE_GRACE
    ),
    accessRefreshMargin: readInteger(
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
    ...readClientRateLimit(env),
    assets: env.ASSETS,
    limits: DEFAULT_LIMITS,
  }
}

// The env object is stable for an isolate's life, so parsing it once per object is safe.
const parsed = new WeakMap<object, AuthOptions>()

/** Throws Misconfigured, naming the setting (never a secret's value). */
export const optionsFromEnv = (env: Bindings): AuthOptions => {
  let options = parsed.get(env)
  if (!options) {
    options = parseOptions(env)
    parsed.set(env, options)
  }
  return options
}
