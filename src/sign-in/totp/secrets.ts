/**
 * Secrets at rest: the TOTP secret sealed with AES-GCM (the user id as associated data, so a box
 * moved to another account fails) and recovery codes kept as HMACs bound to their account, both
 * under keys derived (HKDF) from MFA_SECRET. A copy of D1 alone opens neither.
 */
import { fromBase64Url, randomBytes, toBase64Url, utf8 } from '../../auth/encoding'
import { Misconfigured } from '../../auth/errors'
import { toBase32 } from './rfc6238'

const MIN_SECRET_BYTES = 32
const IV_BYTES = 12
/** 80 bits each, shown as four groups of four Base32 characters. */
const RECOVERY_CODE_BYTES = 10
export const RECOVERY_CODES_PER_SET = 10

interface MfaKeys {
  box: CryptoKey
  codes: CryptoKey
}

// Deriving costs more than using; one pair per server secret is safe to keep per isolate.
const derived = new Map<string, Promise<MfaKeys>>()

const deriveKeys = async (secret: string): Promise<MfaKeys> => {
  const material = await crypto.subtle.importKey('raw', utf8.encode(secret), 'HKDF', false, [
    'deriveKey',
  ])
  const derive = (
    info: string,
    algorithm: Parameters<typeof crypto.subtle.deriveKey>[2],
    uses: Parameters<typeof crypto.subtle.deriveKey>[4]
  ) =>
    crypto.subtle.deriveKey(
      { name: 'HKDF', hash: 'SHA-256', salt: new Uint8Array(), info: utf8.encode(info) },
      material,
      algorithm,
      false,
      uses
    )
  return {
    box: await derive('totp-secret-box:v1', { name: 'AES-GCM', length: 256 }, [
      'encrypt',
      'decrypt',
    ]),
    codes: await derive('recovery-code-mac:v1', { name: 'HMAC', hash: 'SHA-256' }, ['sign']),
  }
}

export const mfaKeys = (secret: string | undefined): Promise<MfaKeys> => {
  if (!secret || utf8.encode(secret).length < MIN_SECRET_BYTES) {
    throw new Misconfigured('MFA_SECRET is missing or shorter than 32 bytes')
  }
  let keys = derived.get(secret)
  if (!keys) {
    keys = deriveKeys(secret)
    derived.set(secret, keys)
  }
  return keys
}

export const sealSecret = async (keys: MfaKeys, userId: string, secret: Uint8Array) => {
  const iv = randomBytes(IV_BYTES)
  const sealed = await crypto.subtle.encrypt(
    { name: 'AES-GCM', iv, additionalData: utf8.encode(userId) },
    keys.box,
    secret
  )
  return `${toBase64Url(iv)}.${toBase64Url(new Uint8Array(sealed))}`
}

/** Null for a box sealed under another key or for another account. */
export const openSecret = async (
  keys: MfaKeys,
  userId: string,
  box: string
): Promise<Uint8Array | null> => {
  const [iv, sealed] = box.split('.').map(fromBase64Url)
  if (!iv || !sealed) return null
  try {
    return new Uint8Array(
      await crypto.subtle.decrypt(
        { name: 'AES-GCM', iv, additionalData: utf8.encode(userId) },
        keys.box,
        sealed
      )
    )
  } catch {
    return null
  }
}

/** Case, spaces and dashes do not matter; anything but 16 Base32 characters matches nothing. */
const normalizeRecoveryCode = (code: string): string | null => {
  const compact = code.replace(/[\s-]/g, '').toUpperCase()
  return /^[A-Z2-7]{16}$/.test(compact) ? compact : null
}

export const hashRecoveryCode = async (
  keys: MfaKeys,
  userId: string,
  code: string
): Promise<string | null> => {
  const normalized = normalizeRecoveryCode(code)
  if (!normalized) return null
  const mac = await crypto.subtle.sign('HMAC', keys.codes, utf8.encode(`${userId}:${normalized}`))
  return toBase64Url(new Uint8Array(mac))
}

export const newRecoveryCodes = (): string[] =>
  Array.from({ length: RECOVERY_CODES_PER_SET }, () =>
    toBase32(randomBytes(RECOVERY_CODE_BYTES))
      .toLowerCase()
      .replace(/(.{4})(?!$)/g, '$1-')
  )
