/**
 * Hashing and checking passwords under the current policy. Each hash is a PHC string that
 * carries its algorithm and parameters, so the policy can change and stale hashes are upgraded
 * at the next successful login.
 */
import { constantTimeEqual, fromBase64Url, randomBytes, toBase64Url, utf8 } from '../encoding'
import type { PasswordHasher, PasswordPolicy } from './hasher'
import { CURRENT_POLICY, findHasher } from './policy'

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
  if (!hash || hash.length !== hasher.keyBytes) return null
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

export const hashPassword = (password: string): Promise<string> =>
  hashPasswordWith(CURRENT_POLICY, password)

export interface PasswordCheck {
  valid: boolean
  /** The hash is sound but was made under another policy; store a fresh one now. */
  needsRehash: boolean
}

const matchesCurrentPolicy = ({ hasher, params }: ParsedHash): boolean =>
  hasher.id === CURRENT_POLICY.hasher.id &&
  hasher.formatParams(params) === CURRENT_POLICY.hasher.formatParams(CURRENT_POLICY.params)

export const verifyPassword = async (password: string, stored: string): Promise<PasswordCheck> => {
  const parsed = parsePasswordHash(stored)
  if (!parsed) return { valid: false, needsRehash: false }
  const candidate = await parsed.hasher.derive(
    utf8.encode(normalizePassword(password)),
    parsed.salt,
    parsed.params
  )
  const valid = constantTimeEqual(candidate, parsed.hash)
  return { valid, needsRehash: valid && !matchesCurrentPolicy(parsed) }
}

// A well-formed hash of no password under the current policy: an unknown email costs the same
// derivation as a wrong password. Built on first use because Workers refuse random values
// outside a request.
let dummyHash: string | undefined

export const burnPasswordCheck = async (password: string): Promise<void> => {
  const { hasher, params } = CURRENT_POLICY
  dummyHash ??= formatHash(hasher, params, randomBytes(SALT_BYTES), randomBytes(hasher.keyBytes))
  await verifyPassword(password, dummyHash)
}
