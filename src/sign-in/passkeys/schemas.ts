/** The passkey routes' bodies and answers: validation and the OpenAPI document come from these. */
import * as v from 'valibot'
import { boundedText } from '../../http/schemas'

/**
 * Base64url without padding, bounded: the shape is checked before anything is decoded. 4096
 * characters hold any field a credential with attestation "none" has (an RS256 key included).
 */
const Base64Url = v.pipe(v.string(), v.maxLength(4096), v.regex(/^[\w-]*$/, 'not base64url'))

/**
 * `PublicKeyCredential.toJSON()`: the fields the checks read; others are ignored. The credential
 * id (unique) names the account; a user handle, when sent, must name the same one.
 */
export const CredentialSchema = v.object({
  id: Base64Url,
  type: v.literal('public-key'),
  response: v.object({
    clientDataJSON: Base64Url,
    attestationObject: v.optional(Base64Url),
    authenticatorData: v.optional(Base64Url),
    signature: v.optional(Base64Url),
    userHandle: v.optional(Base64Url),
  }),
})

export const RegisterPasskeyBody = v.object({
  credential: CredentialSchema,
  name: v.optional(boundedText('name', 0, 64, { trim: true })),
})

export const EmptyBody = v.object({})

export const PasskeyLoginBody = v.object({ credential: CredentialSchema })

// Counted in code points, as the document's maxLength is (the core's own bodies do the same).
export const MfaTokenBody = v.object({ mfa_token: boundedText('mfa_token', 0, 128) })

const Passkey = v.object({
  id: v.string(),
  name: v.string(),
  created_at: v.string(),
  last_used_at: v.nullable(v.string()),
})

export const PasskeyResponse = v.object({ passkey: Passkey })
export const PasskeyListResponse = v.object({ passkeys: v.array(Passkey) })

/** WebAuthn Level 3's JSON options (creation or request), by the field every client reads. */
export const WebAuthnOptions = v.looseObject({ challenge: v.string() })
