/** Byte helpers shared by the token and password modules. */

export const utf8 = new TextEncoder()
/**
 * One decoder for the module's life: constructing one per token showed in /me's profile. Never call
 * it with `{ stream: true }`: its state would then carry from one request into the next.
 */
export const utf8Decoder = new TextDecoder()

export const randomBytes = (length: number): Uint8Array =>
  crypto.getRandomValues(new Uint8Array(length))

const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'

/**
 * Three bytes to four characters straight from the alphabet: a refresh issues seven of these,
 * and btoa's text plus three replacements showed in its profile.
 */
export const toBase64Url = (bytes: Uint8Array): string => {
  let text = ''
  let i = 0
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2]
    text +=
      BASE64URL[n >> 18] + BASE64URL[(n >> 12) & 63] + BASE64URL[(n >> 6) & 63] + BASE64URL[n & 63]
  }
  if (i < bytes.length) {
    const two = i + 1 < bytes.length
    const n = (bytes[i] << 16) | (two ? bytes[i + 1] << 8 : 0)
    text += BASE64URL[n >> 18] + BASE64URL[(n >> 12) & 63] + (two ? BASE64URL[(n >> 6) & 63] : '')
  }
  return text
}

/** Returns null instead of throwing, so that a malformed stored value is a clean failure. */
export const fromBase64Url = (text: string): Uint8Array | null => {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) return null
  try {
    const binary = atob(text.replace(/-/g, '+').replace(/_/g, '/'))
    const bytes = new Uint8Array(binary.length)
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i)
    return bytes
  } catch {
    return null
  }
}

export const sha256Base64Url = async (text: string): Promise<string> =>
  toBase64Url(new Uint8Array(await crypto.subtle.digest('SHA-256', utf8.encode(text))))

/**
 * The shard prefix of an id or token (`2~`; none in a one-shard deployment): what is issued from
 * it carries it on, so that its lookup reaches one shard (docs/scaling.md).
 */
export const shardTag = (id: string): string => id.slice(0, id.indexOf('~') + 1)

/** A token's stored hash, under the token's shard prefix. */
export const tokenHash = async (token: string): Promise<string> =>
  shardTag(token) + (await sha256Base64Url(token))

/**
 * Opaque tokens (refresh and device tokens, mfa_tokens, one-time links, WebAuthn challenges):
 * 256 random bits as 43 base64url characters, after the shard tag of the account they belong to
 * (none with one shard), handed out once and kept only as their hash.
 */
export const newOpaqueToken = (tag = ''): string => tag + toBase64Url(randomBytes(32))

/**
 * The shape of one, checked before any hashing or storage: garbage costs nothing, and a long
 * header (a 64 KiB X-Device-Token) never reaches the pattern.
 */
export const isOpaqueToken = (text: string): boolean =>
  text.length >= 43 && text.length <= 48 && /^(\d{1,4}~)?[\w-]{43}$/.test(text)

/** The hash a presented opaque token is stored under; null for anything not shaped like one. */
export const opaqueTokenHash = (text: string | undefined): Promise<string> | null =>
  text !== undefined && isOpaqueToken(text) ? tokenHash(text) : null

/** Compares secrets in time that depends only on their length. */
export const constantTimeEqual = (a: Uint8Array, b: Uint8Array): boolean => {
  if (a.length !== b.length) return false
  let difference = 0
  for (let i = 0; i < a.length; i++) difference |= a[i] ^ b[i]
  return difference === 0
}

/** The same for texts (base64url digests, as stored): their UTF-8 bytes, compared in constant time. */
export const constantTimeEqualText = (a: string, b: string): boolean =>
  constantTimeEqual(utf8.encode(a), utf8.encode(b))
