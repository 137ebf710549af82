/**
 * Password hashing with PBKDF2-HMAC-SHA256 through Web Crypto. Each hash is a PHC string that
 * carries its own parameters, so the policy can change and stale hashes are upgraded at login.
 */
import { constantTimeEqual, fromBase64Url, randomBytes, toBase64Url, utf8 } from './encoding'

const ALGORITHM_ID = 'pbkdf2-sha256'

/** Deployed Workers refuse PBKDF2 above this count (workerd issue 1346); local runs do not. */
export const PBKDF2_MAX_ITERATIONS = 100_000
/** Stored hashes below this are refused rather than trusted: a crafted row must not weaken login. */
export const PBKDF2_MIN_ITERATIONS = 10_000
export const PASSWORD_POLICY = { algorithm: ALGORITHM_ID, iterations: 100_000 } as const

const SALT_BYTES = 16
const HASH_BYTES = 32

interface ParsedHash {
  iterations: number
  salt: Uint8Array
  hash: Uint8Array
}

/** The same password typed in another Unicode form must hash alike (NIST SP 800-63B). */
export const normalizePassword = (password: string): string => password.normalize('NFKC')

const derive = async (password: string, salt: Uint8Array, iterations: number): Promise<Uint8Array> => {
  const key = await crypto.subtle.importKey('raw', utf8.encode(normalizePassword(password)), 'PBKDF2', false, [
    'deriveBits',
  ])
  const bits = await crypto.subtle.deriveBits(
    { name: 'PBKDF2', hash: 'SHA-256', salt, iterations },
    key,
    HASH_BYTES * 8
  )
  return new Uint8Array(bits)
}

const format = ({ iterations, salt, hash }: ParsedHash): string =>
  `$${ALGORITHM_ID}$i=${iterations}$${toBase64Url(salt)}$${toBase64Url(hash)}`

/** Returns null for anything outside the accepted bounds, so that verification fails cleanly. */
export const parsePasswordHash = (stored: string): ParsedHash | null => {
  const parts = stored.split('$')
  if (parts.length !== 5 || parts[0] !== '' || parts[1] !== ALGORITHM_ID) return null
  const iterationsMatch = /^i=(\d{1,7})$/.exec(parts[2])
  if (!iterationsMatch) return null
  const iterations = Number(iterationsMatch[1])
  if (iterations < PBKDF2_MIN_ITERATIONS || iterations > PBKDF2_MAX_ITERATIONS) return null
  const salt = fromBase64Url(parts[3])
  const hash = fromBase64Url(parts[4])
  if (!salt || salt.length < SALT_BYTES || salt.length > 64) return null
  if (!hash || hash.length !== HASH_BYTES) return null
  return { iterations, salt, hash }
}

export const hashPassword = async (password: string): Promise<string> => {
  const salt = randomBytes(SALT_BYTES)
  const iterations = PASSWORD_POLICY.iterations
  return format({ iterations, salt, hash: await derive(password, salt, iterations) })
}

export interface PasswordCheck {
  valid: boolean
  /** The hash is sound but was made under another policy; store a fresh one now. */
  needsRehash: boolean
}

export const verifyPassword = async (password: string, stored: string): Promise<PasswordCheck> => {
  const parsed = parsePasswordHash(stored)
  if (!parsed) return { valid: false, needsRehash: false }
  const candidate = await derive(password, parsed.salt, parsed.iterations)
  const valid = constantTimeEqual(candidate, parsed.hash)
  return { valid, needsRehash: valid && parsed.iterations !== PASSWORD_POLICY.iterations }
}

// A well-formed hash of no password: an unknown email costs the same derivation as a wrong one.
// Built on first use because Workers refuse random values outside a request.
let dummyHash: string | undefined

export const burnPasswordCheck = async (password: string): Promise<void> => {
  dummyHash ??= format({
    iterations: PASSWORD_POLICY.iterations,
    salt: randomBytes(SALT_BYTES),
    hash: randomBytes(HASH_BYTES),
  })
  await verifyPassword(password, dummyHash)
}
