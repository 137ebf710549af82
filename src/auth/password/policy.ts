/** Which algorithm and parameters new hashes get, and which stored algorithms are still read. */
import type { PasswordHasher, PasswordPolicy } from './hasher'
import { PBKDF2_MAX_ITERATIONS, pbkdf2Sha256 } from './pbkdf2'
import type { Pbkdf2Params } from './pbkdf2'
import { scryptHasher } from './scrypt'
import type { ScryptParams } from './scrypt'

/** OWASP's scrypt option with the smallest table (16 MiB); docs/passwords.md has the why. */
export const SCRYPT_POLICY: PasswordPolicy<ScryptParams> = {
  hasher: scryptHasher,
  params: { logN: 14, r: 8, p: 5 },
}
/** The most deployed Workers allow; kept readable so older rows still log in and get upgraded. */
export const PBKDF2_POLICY: PasswordPolicy<Pbkdf2Params> = {
  hasher: pbkdf2Sha256,
  params: { iterations: PBKDF2_MAX_ITERATIONS },
}

/**
 * The policies a deployment can choose with PASSWORD_HASH. The contract and the platform's
 * measured limits make PBKDF2 the default; scrypt is the memory-hard choice that meets OWASP's
 * minimum (docs/passwords.md). Whichever is chosen, a stored hash made otherwise is
 * replaced at the user's next successful login.
 */
export const PASSWORD_POLICIES = {
  'pbkdf2-sha256': PBKDF2_POLICY,
  scrypt: SCRYPT_POLICY,
} as const satisfies Record<string, PasswordPolicy<unknown>>

export type PasswordPolicyName = keyof typeof PASSWORD_POLICIES

export const DEFAULT_POLICY_NAME: PasswordPolicyName = 'pbkdf2-sha256'
export const DEFAULT_POLICY: PasswordPolicy<unknown> = PASSWORD_POLICIES[DEFAULT_POLICY_NAME]

export const policyNamed = (name: string): PasswordPolicy<unknown> | undefined =>
  Object.hasOwn(PASSWORD_POLICIES, name) ? PASSWORD_POLICIES[name as PasswordPolicyName] : undefined

// Unknown identifiers are refused; listing an algorithm here is what makes its rows readable.
const HASHERS = new Map<string, PasswordHasher<unknown>>([
  [pbkdf2Sha256.id, pbkdf2Sha256],
  [scryptHasher.id, scryptHasher],
])

export const findHasher = (id: string): PasswordHasher<unknown> | undefined => HASHERS.get(id)
