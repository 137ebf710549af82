/** The passkey routes' bodies and answers: validation and the OpenAPI document come from these. */
import * as v from 'valibot'

/** Base64url without padding, of a bounded length: the shape is checked before any decoding. */
const base64url = (max: number) =>
  v.pipe(
    v.string(),
    v.maxLength(max, `at most ${max} characters`),
    v.regex(/^[\w-]*$/, 'not base64url')
  )

/** `PublicKeyCredential.toJSON()`: the fields the checks read; others are ignored. */
export const CredentialSchema = v.object({
  id: base64url(1400),
  type: v.literal('public-key'),
  response: v.object({
    clientDataJSON: base64url(2048),
    attestationObject: v.optional(base64url(4096)),
    authenticatorData: v.optional(base64url(2048)),
    signature: v.optional(base64url(1024)),
    userHandle: v.optional(base64url(128)),
  }),
})

export const RegisterPasskeyBody = v.object({
  credential: CredentialSchema,
  name: v.optional(v.pipe(v.string(), v.trim(), v.maxLength(64))),
})

export const EmptyBody = v.object({})

export const MfaTokenBody = v.object({ mfa_token: v.pipe(v.string(), v.maxLength(128)) })

export const PasskeyLoginBody = v.object({ credential: CredentialSchema })

const Passkey = v.object({
  id: v.string(),
  name: v.string(),
  created_at: v.string(),
  last_used_at: v.nullable(v.string()),
})

export const PasskeyResponse = v.object({ passkey: Passkey })
export const PasskeyListResponse = v.object({ passkeys: v.array(Passkey) })

/** WebAuthn Level 3's JSON options, described by the fields every client needs. */
export const CreationOptions = v.looseObject({ challenge: v.string(), rp: v.object({}) })
export const RequestOptions = v.looseObject({ challenge: v.string(), rpId: v.string() })
