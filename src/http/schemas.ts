/**
 * The request and response schemas. Validation and the OpenAPI document are both derived from
 * these, so the two cannot drift apart.
 */
import * as v from 'valibot'
import { isMailSafe } from '../auth/email-address'
import { SECURITY_EVENT_TYPES } from '../ports'

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/
/** Regex sources: the C0 controls and DEL; JavaScript's whitespace (what trim() removes, \s). */
export const CONTROL = '\\u0000-\\u001f\\u007f'
export const SPACE =
  '\\t\\n\\v\\f\\r \\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff'
const CONTROL_CHARACTER = new RegExp(`[${CONTROL}]`)
// Spelled out rather than \s, so that the document's pattern means the same in other engines.
const EMAIL_PART = `[^@.${SPACE}${CONTROL}]+`
const EMAIL = new RegExp(`^[^@${SPACE}${CONTROL}]+@${EMAIL_PART}(?:\\.${EMAIL_PART})+$`)

const codePoints = (text: string): number => [...text].length

/** Named, so that the OpenAPI conversion (src/openapi/) can spell this rule as a pattern. */
export const hasNoControlCharacter = (value: string): boolean => !CONTROL_CHARACTER.test(value)

interface TextOptions {
  allowControl?: boolean
  /** Trim before the checks: a tab or newline around a value is whitespace, not a control character. */
  trim?: boolean
}

/**
 * A string that is valid Unicode; NUL and other control characters are refused where noted.
 * One flat pipe with a single schema, so that the OpenAPI conversion keeps every constraint.
 */
const text = (field: string, options: TextOptions = {}) => {
  const validUnicode = v.check(
    (value: string) => !LONE_SURROGATE.test(value),
    `${field} must be valid Unicode`
  )
  const string = v.string(`${field} must be a string`)
  if (options.allowControl) {
    return options.trim ? v.pipe(string, v.trim(), validUnicode) : v.pipe(string, validUnicode)
  }
  const noControl = v.check(hasNoControlCharacter, `${field} must not contain control characters`)
  return options.trim
    ? v.pipe(string, v.trim(), validUnicode, noControl)
    : v.pipe(string, validUnicode, noControl)
}

/** A string of `min` to `max` code points (for a feature's own schemas too). */
export const boundedText = (field: string, min: number, max: number, options?: TextOptions) =>
  v.pipe(
    text(field, options),
    v.check(
      (value) => codePoints(value) >= min && codePoints(value) <= max,
      min > 0
        ? `${field} must be ${min} to ${max} characters`
        : `${field} must be at most ${max} characters`
    ),
    v.metadata(min > 0 ? { minLength: min, maxLength: max } : { maxLength: max })
  )

/** At most `max` Unicode code points, as JSON Schema's maxLength counts them. */
const cappedText = (field: string, max: number, options?: TextOptions) =>
  boundedText(field, 0, max, options)

const SHAPE_MESSAGE = 'email must look like name@example.com'

/** Every address that may receive mail (register, forgot, verification). */
export const EmailSchema = v.pipe(
  cappedText('email', 254, { trim: true }),
  v.toLowerCase(),
  v.regex(EMAIL, SHAPE_MESSAGE),
  v.check(isMailSafe, 'email must not contain spaces, quotes, brackets, commas or semicolons'),
  v.description(
    'Trimmed and compared case-insensitively; stored in lower case. No spaces, control characters or `,;<>"()[]:\\`.'
  )
)

export const PasswordSchema = v.pipe(
  boundedText('password', 8, 256),
  v.description(
    '8 to 256 Unicode code points, no composition rules; NFKC-normalized before hashing.'
  )
)

export const NicknameSchema = v.pipe(
  boundedText('nickname', 1, 50, { trim: true }),
  v.description('1 to 50 characters after trimming.')
)

export const RegisterBody = v.object({
  email: EmailSchema,
  password: PasswordSchema,
  nickname: v.optional(NicknameSchema),
})

export const LoginBody = v.object({
  // Something@something: an address no account can have (spaces, control characters, `,;<>"`,
  // a second @) is answered as an unknown one, not as invalid input.
  email: v.pipe(
    cappedText('email', 254, { trim: true, allowControl: true }),
    v.toLowerCase(),
    v.regex(/^[^@]+@[^@]+(?:@[^@]*)*$/, SHAPE_MESSAGE)
  ),
  password: cappedText('password', 1024),
})

export const RefreshBody = v.object({
  refresh_token: cappedText('refresh_token', 512),
})

export const LogoutBody = v.object({
  refresh_token: v.optional(cappedText('refresh_token', 512)),
})

export const ChangePasswordBody = v.object({
  current_password: cappedText('current_password', 1024),
  new_password: boundedText('new_password', 8, 256),
})

export const UpdateMeBody = v.object({ nickname: NicknameSchema })

export const DeleteMeBody = v.object({
  password: cappedText('password', 1024),
})

export const EmailOnlyBody = v.object({ email: EmailSchema })

/**
 * Any string, control characters and lone surrogates included: a malformed token is answered
 * like an unknown one (invalid_one_time_token), by the token check rather than here.
 */
const OneTimeToken = v.pipe(
  v.string('token must be a string'),
  v.description('The one-time token from the link in the message (after #reset= or #verify=).')
)

export const ResetPasswordBody = v.object({
  token: OneTimeToken,
  new_password: boundedText('new_password', 8, 256),
})

export const VerifyEmailBody = v.object({ token: OneTimeToken })

// A second factor's answer: a wrong or malformed one is the method's 401, not a 400.
const MfaCode = cappedText('code', 64)
const SecondFactorMethod = v.picklist(
  ['totp', 'recovery_code', 'passkey'],
  'method must be totp, recovery_code or passkey'
)
const PasskeyCredential = v.record(v.string(), v.unknown(), 'credential must be an object')

export const MfaVerifyBody = v.object({
  mfa_token: cappedText('mfa_token', 128),
  method: SecondFactorMethod,
  code: v.optional(MfaCode),
  credential: v.optional(PasskeyCredential),
})

/** `{password}`, or a second factor's `{method, code}` / `{method, credential}`. */
export const ReauthenticateBody = v.pipe(
  v.object({
    password: v.optional(cappedText('password', 1024)),
    method: v.optional(SecondFactorMethod),
    code: v.optional(MfaCode),
    credential: v.optional(PasskeyCredential),
  }),
  v.check(
    (body) => body.password !== undefined || body.method !== undefined,
    'send password, or method with its code or credential'
  ),
  // The check above, as the document states it (with both, the password is checked).
  v.metadata({ anyOf: [{ required: ['password'] }, { required: ['method'] }] })
)

export const MfaCodeBody = v.object({ code: MfaCode })

// Response shapes, for the OpenAPI document.
export const Timestamp = v.pipe(v.string(), v.isoTimestamp())

export const UserSchema = v.object({
  id: v.string(),
  email: v.string(),
  nickname: v.nullable(v.string()),
  created_at: Timestamp,
  email_verified: v.boolean(),
  mfa: v.object({ totp: v.boolean(), passkeys: v.number() }),
})

export const TokenResponse = v.object({
  user: UserSchema,
  access_token: v.string(),
  token_type: v.literal('Bearer'),
  expires_in: v.number(),
  refresh_token: v.string(),
  refresh_expires_in: v.number(),
  /** Register and login from a device the account does not know yet: send it as X-Device-Token. */
  device_token: v.optional(v.string()),
})

/** Cookie mode: the tokens travel only in HttpOnly cookies, so the body leaves them out. */
export const CookieTokenResponse = v.object({
  user: UserSchema,
  token_type: v.literal('Bearer'),
  expires_in: v.number(),
  refresh_expires_in: v.number(),
  auth_mode: v.literal('cookie'),
})

export const IssuedTokensResponse = v.union([TokenResponse, CookieTokenResponse])

/** A first factor was right; a second one is needed (POST /auth/mfa/verify). */
export const MfaRequiredResponse = v.object({
  mfa_required: v.literal(true),
  mfa_token: v.string(),
  methods: v.array(v.string()),
  expires_in: v.number(),
})

export const UserResponse = v.object({ user: UserSchema })

export const SessionSchema = v.object({
  id: v.string(),
  created_at: Timestamp,
  last_used_at: Timestamp,
  expires_at: Timestamp,
  user_agent: v.nullable(v.string()),
  current: v.boolean(),
})

export const SessionListResponse = v.object({ sessions: v.array(SessionSchema) })

export const SecurityEventSchema = v.object({
  type: v.picklist(SECURITY_EVENT_TYPES),
  /** How a login was proved ('pwd', 'otp', 'hwk', ...); null for other events. */
  method: v.nullable(v.string()),
  created_at: Timestamp,
  ip: v.nullable(v.string()),
  user_agent: v.nullable(v.string()),
  country: v.nullable(v.string()),
  session_id: v.nullable(v.string()),
})

export const SecurityEventListResponse = v.object({
  events: v.array(SecurityEventSchema),
  next_cursor: v.nullable(v.string()),
})

export const AcceptedResponse = v.object({ status: v.literal('accepted') })

/** Register with REQUIRE_EMAIL_VERIFICATION=true: the account, and no tokens until it is verified. */
export const RegisteredUnverifiedResponse = v.object({
  user: UserSchema,
  email_verification_required: v.literal(true),
})

/** What register answers: tokens (or their cookie-mode variant), or the unverified account. */
export const RegisteredResponse = v.union([
  TokenResponse,
  CookieTokenResponse,
  RegisteredUnverifiedResponse,
])

export const OutboxResponse = v.object({
  messages: v.array(
    v.object({ to: v.string(), subject: v.string(), text: v.string(), created_at: Timestamp })
  ),
})

export const HealthResponse = v.object({ status: v.literal('ok') })

/** GET /openapi.json, described only as far as a client needs to recognize it. */
export const OpenApiDocument = v.looseObject({
  openapi: v.literal('3.1.0'),
  info: v.looseObject({ title: v.string(), version: v.string() }),
  paths: v.record(v.string(), v.looseObject({})),
})

export const ErrorResponse = v.object({
  error: v.string(),
  message: v.string(),
  details: v.optional(v.record(v.string(), v.string())),
})
