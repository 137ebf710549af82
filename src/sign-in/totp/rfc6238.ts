/**
 * TOTP as RFC 6238 defines it, with the parameters every authenticator app understands:
 * HMAC-SHA-1 (RFC 4226's HOTP), 30-second steps, 6 digits; secrets shown as RFC 4648 Base32.
 */
export const STEP_SECONDS = 30
export const DIGITS = 6
/** 160 bits: RFC 4226's recommended length, the size of a SHA-1 block's output. */
export const SECRET_BYTES = 20

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'

/** Unpadded Base32 (RFC 4648 §6), as otpauth URIs carry it. */
export const toBase32 = (bytes: Uint8Array): string => {
  let out = ''
  let bits = 0
  let value = 0
  for (const byte of bytes) {
    value = (value << 8) | byte
    bits += 8
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31]
      bits -= 5
    }
  }
  if (bits > 0) out += BASE32[(value << (5 - bits)) & 31]
  return out
}

export const stepAt = (seconds: number): number => Math.floor(seconds / STEP_SECONDS)

export const importTotpKey = (secret: Uint8Array): Promise<CryptoKey> =>
  crypto.subtle.importKey('raw', secret, { name: 'HMAC', hash: 'SHA-1' }, false, ['sign'])

/** HOTP(K, step) (RFC 4226 §5.3): the dynamic truncation of HMAC-SHA-1 over the 8-byte counter. */
export const totpCode = async (key: CryptoKey, step: number, digits = DIGITS): Promise<string> => {
  const counter = new DataView(new ArrayBuffer(8))
  // Steps fit in 53 bits; split across two 32-bit words.
  counter.setUint32(0, Math.floor(step / 2 ** 32))
  counter.setUint32(4, step >>> 0)
  const mac = new Uint8Array(await crypto.subtle.sign('HMAC', key, counter.buffer))
  const offset = mac[mac.length - 1] & 0x0f
  const binary =
    ((mac[offset] & 0x7f) << 24) |
    (mac[offset + 1] << 16) |
    (mac[offset + 2] << 8) |
    mac[offset + 3]
  return String(binary % 10 ** digits).padStart(digits, '0')
}
