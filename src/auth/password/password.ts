/**
 * Hashing and checking passwords under the current policy. Each hash is a PHC string that
 * carries its algorithm and parameters, so the policy can change and stale hashes are upgraded
 * at the next successful login.
 */
import { constantTimeEqual, fromBase64Url, randomBytes, toBase64Url, utf8 } from '../encoding'
import type { PasswordHasher, PasswordPolicy } from './hasher'
import { DEFAULT_POLICY, findHasher } from './policy'

const SALT_BYTES = 16
const MAX_SALT_BYTES = 64
/** Longer than any hash this code writes; a longer row is refused before it is even split. */
const MAX_STORED_LENGTH = 256

interface ParsedHash {
  hasher: PasswordHasher<unknown>
  params: unknown
  salt: Uint8Array
  hash: Uint8Array
}

/** The same password typed in another Unicode form must hash alike (NIST SP 800-63B). */
export const normalizePassword = (password: string): string => password.normalize('NFKC')

const formatHash = <P>(
  hasher: PasswordHasher<P>,
  params: P,
  salt: Uint8Array,
  hash: Uint8Array
): string =>
  `$${hasher.id}$${hasher.formatParams(params)}$${toBase64Url(salt)}$${toBase64Url(hash)}`

/**
 * Returns null for anything unknown, malformed or outside the accepted bounds, so that a crafted
 * row fails cleanly before any derivation runs.
 */
export const parsePasswordHash = (stored: string): ParsedHash | null => {
  if (stored.length > MAX_STORED_LENGTH) return null
  const parts = stored.split('$')
  if (parts.length !== 5 || parts[0] !== '') return null
  const hasher = findHasher(parts[1])
  if (!hasher) return null
  const params = hasher.parseParams(parts[2])
  if (params === null) return null
  const salt = fromBase64Url(parts[3])
  const hash = fromBase64Url(parts[4])
  if (!salt || salt.length < SALT_BYTES || salt.length > MAX_SALT_BYTES) return null
  if (hash?.length !== hasher.keyBytes) return null
  return { hasher, params, salt, hash }
}

/** Hashes under a given policy; the routes use `hashPassword`, tests and migrations name one. */
export const hashPasswordWith = async <P>(
  policy: PasswordPolicy<P>,
  password: string
): Promise<string> => {
  const salt = randomBytes(SALT_BYTES)
  const hash = await policy.hasher.derive(
    utf8.encode(normalizePassword(password)),
    salt,
    policy.params
  )
  return formatHash(policy.hasher, policy.params, salt, hash)
}

/** Hashes under the deployment's policy (config `passwordPolicy`). */
export const hashPassword = (
  password: string,
  policy: PasswordPolicy<unknown> = DEFAULT_POLICY
): Promise<string> => hashPasswordWith(policy, password)

export interface PasswordCheck {
  valid: boolean
  /** The hash is sound but was made under another policy; store a fresh one now. */
  needsRehash: boolean
}

const matchesPolicy = ({ hasher, params }: ParsedHash, policy: PasswordPolicy<unknown>): boolean =>
  hasher.id === policy.hasher.id &&
  hasher.formatParams(params) === policy.hasher.formatParams(policy.params)

/** Checks against the stored hash's own parameters; `policy` only decides whether to rehash. */
export const verifyPassword = async (
  password: string,
  stored: string,
  policy: PasswordPolicy<unknown> = DEFAULT_POLICY
): Promise<PasswordCheck> => {
  const parsed = parsePasswordHash(stored)
  if (!parsed) return { valid: false, needsRehash: false }
  const candidate = await parsed.hasher.derive(
    utf8.encode(normalizePassword(password)),
    parsed.salt,
    parsed.params
  )
  const valid = constantTimeEqual(candidate, parsed.hash)
  return { valid, needsRehash: valid && !matchesPolicy(parsed, policy) }
}

// A well-formed hash of no password under the current policy: an unknown email costs the same
// derivation as a wrong password. Built on first use because Workers refuse random values
// outside a request.
const dummyHashes = new Map<PasswordPolicy<unknown>, string>()

export const burnPasswordCheck = async (
  password: string,
  policy: PasswordPolicy<unknown> = DEFAULT_POLICY
): Promise<void> => {
  let dummyHash = dummyHashes.get(policy)
  if (!dummyHash) {
    const { hasher, params } = policy
    dummyHash = formatHash(hasher, params, randomBytes(SALT_BYTES), randomBytes(hasher.keyBytes))
    dummyHashes.set(policy, dummyHash)
  }
  await verifyPassword(password, dummyHash, policy)
}

/**
 * The login check: never less work than an unknown email. A missing account runs the current
 * policy's dummy derivation; a hash made under another policy (a dormant account from before a
 * PASSWORD_HASH switch) runs it as well as its own, so that neither answers faster than the other.
 */
export const checkLoginPassword = async (
  password: string,
  stored: string | null,
  policy: PasswordPolicy<unknown> = DEFAULT_POLICY
): Promise<PasswordCheck> => {
  if (stored === null) {
    await burnPasswordCheck(password, policy)
    return { valid: false, needsRehash: false }
  }
  // A row that does not parse (an account made by an identity provider has no password) is
  // refused, after the same derivation an unknown email costs: no faster answer tells it apart.
  const parsed = parsePasswordHash(stored)
  if (!parsed || !matchesPolicy(parsed, policy)) await burnPasswordCheck(password, policy)
  return verifyPassword(password, stored, policy)
}
