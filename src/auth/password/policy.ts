/** Which algorithm and parameters new hashes get, and which stored algorithms are still read. */
import type { PasswordHasher, PasswordPolicy } from './hasher'
import { type Pbkdf2Params, PBKDF2_MAX_ITERATIONS, pbkdf2Sha256 } from './pbkdf2'
import { type ScryptParams, scryptHasher } from './scrypt'

/** OWASP's scrypt option with the smallest table (16 MiB); README "Password storage" has the why. */
export const SCRYPT_POLICY: PasswordPolicy<ScryptParams> = {
  hasher: scryptHasher,
  params: { logN: 14, r: 8, p: 5 },
}
/** The most deployed Workers allow; kept readable so older rows still log in and get upgraded. */
export const PBKDF2_POLICY: PasswordPolicy<Pbkdf2Params> = {
  hasher: pbkdf2Sha256,
  params: { iterations: PBKDF2_MAX_ITERATIONS },
}

/** The policy new hashes are made with; a stored hash made otherwise is replaced at next login. */
export const CURRENT_POLICY: PasswordPolicy<ScryptParams> = SCRYPT_POLICY

/** A flat, readable view of the current policy, e.g. `{ algorithm: 'scrypt', logN: 14, r: 8, p: 5 }`. */
export const PASSWORD_POLICY = {
  algorithm: CURRENT_POLICY.hasher.id,
  ...CURRENT_POLICY.params,
} as const

// Unknown identifiers are refused; listing an algorithm here is what makes its rows readable.
const HASHERS = new Map<string, PasswordHasher<unknown>>([
  [pbkdf2Sha256.id, pbkdf2Sha256],
  [scryptHasher.id, scryptHasher],
])

export const findHasher = (id: string): PasswordHasher<unknown> | undefined => HASHERS.get(id)
