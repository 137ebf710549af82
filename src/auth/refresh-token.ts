/**
 * Refresh tokens: 256 random bits, handed to the client once and kept only as a SHA-256 hash.
 * A rotated token's successor is sealed with a key derived from the rotated token itself, so a
 * racing duplicate refresh can be handed the same successor without the server ever storing it
 * readably.
 */
import { fromBase64Url, randomBytes, sha256Base64Url, toBase64Url, utf8 } from './encoding'

const TOKEN_BYTES = 32
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/
const SEAL_CONTEXT = 'refresh-successor-seal:v1:'
const IV_BYTES = 12

export const newRefreshToken = (): string => toBase64Url(randomBytes(TOKEN_BYTES))

/** Cheap shape check first, so that garbage never reaches storage. */
export const isWellFormedRefreshToken = (token: string): boolean => TOKEN_PATTERN.test(token)

export const hashRefreshToken = (token: string): Promise<string> => sha256Base64Url(token)

const sealingKey = async (token: string): Promise<CryptoKey> => {
  const material = await crypto.subtle.digest('SHA-256', utf8.encode(SEAL_CONTEXT + token))
  return crypto.subtle.importKey('raw', material, 'AES-GCM', false, ['encrypt', 'decrypt'])
}

export const sealSuccessor = async (rotatedToken: string, successor: string): Promise<string> => {
  const iv = randomBytes(IV_BYTES)
  const sealed = await crypto.subtle.encrypt(
    { name: 'AES-GCM', iv },
    await sealingKey(rotatedToken),
    utf8.encode(successor)
  )
  return `${toBase64Url(iv)}.${toBase64Url(new Uint8Array(sealed))}`
}

/** Null when the box was not sealed for this token. */
export const openSuccessor = async (rotatedToken: string, box: string): Promise<string | null> => {
  const [ivText, sealedText] = box.split('.')
  const iv = fromBase64Url(ivText ?? '')
  const sealed = fromBase64Url(sealedText ?? '')
  if (!iv || !sealed || iv.length !== IV_BYTES) return null
  try {
    const opened = await crypto.subtle.decrypt(
      { name: 'AES-GCM', iv },
      await sealingKey(rotatedToken),
      sealed
    )
    return new TextDecoder().decode(opened)
  } catch {
    return null
  }
}
