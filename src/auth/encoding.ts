/** Byte helpers shared by the token and password modules. */

export const utf8 = new TextEncoder()
/**
 * One decoder for the module's life: constructing one per token showed in /me's profile. Never call
 * it with `{ stream: true }`: its state would then carry from one request into the next.
 */
export const utf8Decoder = new TextDecoder()

export const randomBytes = (length: number): Uint8Array =>
  crypto.getRandomValues(new Uint8Array(length))

export const toBase64Url = (bytes: Uint8Array): string => {
  let binary = ''
  for (const byte of bytes) binary += String.fromCharCode(byte)
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
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
 * The shard prefix of an id or token (`2~`; none on shard 0 and in a one-shard deployment): what
 * is issued from it carries it on, so that its lookup reaches one shard (docs/scaling.md).
 */
export const shardTag = (id: string): string => id.slice(0, id.indexOf('~') + 1)

/** A token's stored hash, under the token's shard prefix. */
export const tokenHash = async (token: string): Promise<string> =>
  shardTag(token) + (await sha256Base64Url(token))

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
