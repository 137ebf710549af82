/** Password storage: hashing, checking and the policy, behind one import path. */
export type { PasswordHasher, PasswordPolicy } from './hasher'
export {
  PBKDF2_MAX_ITERATIONS,
  PBKDF2_MIN_ITERATIONS,
  type Pbkdf2Params,
  pbkdf2Sha256,
} from './pbkdf2'
export {
  SCRYPT_MAX,
  SCRYPT_MAX_MEMORY_BYTES,
  SCRYPT_MAX_WORK,
  SCRYPT_MIN,
  type ScryptParams,
  scryptHasher,
  scryptMemoryBytes,
  scryptParamsAccepted,
  scryptWork,
} from './scrypt'
export {
  DEFAULT_POLICY,
  DEFAULT_POLICY_NAME,
  PASSWORD_POLICIES,
  type PasswordPolicyName,
  PBKDF2_POLICY,
  SCRYPT_POLICY,
  findHasher,
  policyNamed,
} from './policy'
export {
  type PasswordCheck,
  burnPasswordCheck,
  checkLoginPassword,
  hashPassword,
  hashPasswordWith,
  normalizePassword,
  parsePasswordHash,
  verifyPassword,
} from './password'
