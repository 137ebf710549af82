/** PBKDF2-HMAC-SHA256 through Web Crypto: the portable hasher, capped by deployed Workers. */
import type { PasswordHasher } from './hasher'
import { parseNumericParams } from './hasher'

/** Deployed Workers refuse PBKDF2 above this count (workerd issue 1346); local runs do not. */
export const PBKDF2_MAX_ITERATIONS = 100_000
/** Stored hashes below this are refused rather than trusted: a crafted row must not weaken login. */
export const PBKDF2_MIN_ITERATIONS = 10_000

export interface Pbkdf2Params {
  iterations: number
}

export const pbkdf2Sha256: PasswordHasher<Pbkdf2Params> = {
  id: 'pbkdf2-sha256',
  keyBytes: 32,
  formatParams: ({ iterations }) => `i=${iterations}`,
  parseParams: (text) => {
    const fields = parseNumericParams(text, ['i'])
    if (!fields) return null
    const iterations = fields.i
    if (iterations < PBKDF2_MIN_ITERATIONS || iterations > PBKDF2_MAX_ITERATIONS) return null
    return { iterations }
  },
  derive: async (password, salt, { iterations }) => {
    const key = await crypto.subtle.importKey('raw', password, 'PBKDF2', false, ['deriveBits'])
    const bits = await crypto.subtle.deriveBits(
      { name: 'PBKDF2', hash: 'SHA-256', salt, iterations },
      key,
      256
    )
    return new Uint8Array(bits)
  },
}
