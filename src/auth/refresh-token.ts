/**
 * Refresh tokens: 256 random bits, handed to the client once and kept only as a SHA-256 hash.
 * A rotated token's successor is sealed with a key derived from the server secret and the rotated
 * token together, so a racing duplicate refresh can be handed the same successor while neither a
 * copy of D1 with an old token nor the secret alone can read it.
 */
import { fromBase64Url, randomBytes, toBase64Url, utf8, utf8Decoder } from './encoding'

const SEAL_CONTEXT = 'refresh-successor-seal:v2'
const IV_BYTES = 12

// The secret's HKDF key, imported once per secret and isolate (as access-token.ts keeps its HMAC key).
const secretKeys = new Map<string, Promise<CryptoKey>>()

/** HKDF-SHA-256 with the server secret as key material and the rotated token as salt. */
const sealingKey = async (secret: string, token: string): Promise<CryptoKey> => {
  let material = secretKeys.get(secret)
  if (!material) {
    material = crypto.subtle.importKey('raw', utf8.encode(secret), 'HKDF', false, ['deriveKey'])
    secretKeys.set(secret, material)
  }
  return crypto.subtle.deriveKey(
    { name: 'HKDF', hash: 'SHA-256', salt: utf8.encode(token), info: utf8.encode(SEAL_CONTEXT) },
    await material,
    { name: 'AES-GCM', length: 256 },
    false,
    ['encrypt', 'decrypt']
  )
}

/** The session id is authenticated with the box, so a box moved to another session's row fails. */
export const sealSuccessor = async (
  secret: string,
  sessionId: string,
  rotatedToken: string,
  successor: string
): Promise<string> => {
  const iv = randomBytes(IV_BYTES)
  const sealed = await crypto.subtle.encrypt(
    { name: 'AES-GCM', iv, additionalData: utf8.encode(sessionId) },
    await sealingKey(secret, rotatedToken),
    utf8.encode(successor)
  )
  return `${toBase64Url(iv)}.${toBase64Url(new Uint8Array(sealed))}`
}

/** Null when the box was not sealed for this secret, session and token. */
export const openSuccessor = async (
  secret: string,
  sessionId: string,
  rotatedToken: string,
  box: string
): Promise<string | null> => {
  const [ivText, sealedText] = box.split('.')
  const iv = fromBase64Url(ivText ?? '')
  const sealed = fromBase64Url(sealedText ?? '')
  if (!iv || !sealed || iv.length !== IV_BYTES) return null
  try {
    const opened = await crypto.subtle.decrypt(
      { name: 'AES-GCM', iv, additionalData: utf8.encode(sessionId) },
      await sealingKey(secret, rotatedToken),
      sealed
    )
    return utf8Decoder.decode(opened)
  } catch {
    return null
  }
}
