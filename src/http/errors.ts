/**
 * The error vocabulary of the HTTP contract and its one JSON shape. Features add their own codes
 * (registerErrors, called by createAuth), typed through FeatureErrorCodes.
 */
import type { Context } from 'hono'
import type { ContentfulStatusCode } from 'hono/utils/http-status'

const CORE_ERRORS = {
  invalid_json: [400, 'The request body must be a JSON object.'],
  validation_failed: [400, 'Some fields are missing or invalid.'],
  missing_token: [401, 'This route needs an access token.'],
  invalid_token: [401, 'The access token is not valid.'],
  token_expired: [401, 'The access token has expired.'],
  token_revoked: [401, 'The session of this access token has ended.'],
  invalid_credentials: [401, 'The email or password is wrong.'],
  invalid_refresh_token: [401, 'The refresh token is not valid.'],
  invalid_one_time_token: [400, 'This link is invalid, used or expired; ask for a new one.'],
  // Second factors and step-up (src/auth/second-factor.ts): every method answers these.
  invalid_mfa_code: [401, 'The code is wrong or was already used.'],
  invalid_mfa_token: [401, 'This sign-in attempt has ended; sign in again.'],
  invalid_passkey: [401, 'The passkey could not be verified.'],
  reauthentication_required: [401, 'Sign in again (POST /auth/reauthenticate) to do this.'],
  mfa_already_enabled: [409, 'This second factor is already on.'],
  forbidden: [403, 'This request is not allowed.'],
  email_not_verified: [403, 'Verify your email address before signing in.'],
  not_found: [404, 'Nothing is here.'],
  method_not_allowed: [405, 'This method is not allowed on this path.'],
  email_taken: [409, 'An account with this email already exists.'],
  payload_too_large: [413, 'The request body is larger than 16 KiB.'],
  unsupported_media_type: [415, 'The request body must be sent as application/json.'],
  too_many_requests: [429, 'Too many attempts; try again later.'],
  internal_error: [500, 'Something went wrong on our side.'],
  server_misconfigured: [500, 'The server is not configured correctly.'],
  service_unavailable: [503, 'A storage service is unavailable; try again shortly.'],
} as const satisfies Record<string, readonly [ContentfulStatusCode, string]>

/**
 * A feature's codes, by module augmentation, each with its status:
 * `declare module '../../http/errors' { interface FeatureErrorCodes { invalid_mfa_code: 401 } }`
 */
export interface FeatureErrorCodes {}

type CoreErrorCode = keyof typeof CORE_ERRORS
// Until a feature augments FeatureErrorCodes its keys are `never`, and the union is the core's.
/* eslint-disable @typescript-eslint/no-redundant-type-constituents */
export type ErrorCode = CoreErrorCode | keyof FeatureErrorCodes
/** Every status an error of the contract can have (typed clients narrow on it). */
export type ErrorStatus =
  (typeof CORE_ERRORS)[CoreErrorCode][0] | FeatureErrorCodes[keyof FeatureErrorCodes]
/* eslint-enable @typescript-eslint/no-redundant-type-constituents */

/** A feature's error table: code -> [status, default message]. */
export type FeatureErrors = Readonly<Record<string, readonly [ContentfulStatusCode, string]>>

const ERRORS = new Map<string, readonly [ContentfulStatusCode, string]>(Object.entries(CORE_ERRORS))

/** Adds a feature's codes to the one table; the same code at another status is a startup error. */
export const registerErrors = (errors: FeatureErrors): void => {
  for (const [code, entry] of Object.entries(errors)) {
    const known = ERRORS.get(code)
    if (known && known[0] !== entry[0]) {
      throw new Error(`error code ${code} is already registered with status ${known[0]}`)
    }
    ERRORS.set(code, entry)
  }
}

// A code nobody registered is a programming error: it renders as the generic 500.
const entryOf = (code: string): readonly [ContentfulStatusCode, string] =>
  ERRORS.get(code) ?? CORE_ERRORS.internal_error

export interface ErrorBody {
  error: ErrorCode
  message: string
  details?: Record<string, string>
}

interface ApiErrorOptions {
  message?: string
  /** Only where the contract gives one code two statuses (invalid_credentials: 401 or 403). */
  status?: ContentfulStatusCode
  details?: Record<string, string>
  headers?: Record<string, string>
  cause?: unknown
}

/** Every failure a client may see, thrown anywhere and rendered once by the app's onError. */
export class ApiError extends Error {
  readonly code: ErrorCode
  readonly status: ContentfulStatusCode
  readonly details?: Record<string, string>
  readonly headers: Record<string, string>

  constructor(code: ErrorCode, options: ApiErrorOptions = {}) {
    const [status, defaultMessage] = entryOf(code)
    super(options.message ?? defaultMessage, { cause: options.cause })
    this.name = 'ApiError'
    this.code = code
    this.status = options.status ?? status
    this.details = options.details
    this.headers = options.headers ?? {}
  }

  get body(): ErrorBody {
    return {
      error: this.code,
      message: this.message,
      ...(this.details ? { details: this.details } : {}),
    }
  }
}

export const renderApiError = (c: Context, error: ApiError): Response =>
  c.json(error.body, error.status, error.headers)

export const errorStatus = (code: ErrorCode): ContentfulStatusCode => entryOf(code)[0]

export const errorMessage = (code: ErrorCode): string => entryOf(code)[1]

export { bearerChallenge } from './bearer'
