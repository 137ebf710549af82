/** The shape every password-hashing algorithm plugs into, so the policy can name any of them. */

/**
 * One algorithm. Parameters travel in the PHC string's parameter field, so `parseParams` is the
 * gate a stored row passes through: it returns null for anything outside safe bounds, and the
 * derivation never runs on parameters it did not accept.
 */
export interface PasswordHasher<Params> {
  /** The PHC identifier, e.g. `scrypt` in `$scrypt$ln=14,r=8,p=5$…`. */
  readonly id: string
  /** Length in bytes of the derived key this hasher stores and accepts. */
  readonly keyBytes: number
  formatParams(params: Params): string
  parseParams(text: string): Params | null
  /** `password` is already NFKC-normalized and UTF-8 encoded. */
  derive(password: Uint8Array, salt: Uint8Array, params: Params): Promise<Uint8Array>
}

/** An algorithm with the parameters new hashes are made with. */
export interface PasswordPolicy<Params> {
  hasher: PasswordHasher<Params>
  params: Params
}

/** Parses `key=value,key=value` with only digits as values; null on any surprise. */
export const parseNumericParams = (
  text: string,
  keys: readonly string[]
): Record<string, number> | null => {
  const fields = text.split(',')
  if (fields.length !== keys.length) return null
  const result: Record<string, number> = {}
  for (const [index, field] of fields.entries()) {
    // Eight digits bound every value before Number() sees it; the hashers check real limits.
    const match = /^([a-z]+)=(\d{1,8})$/.exec(field)
    if (match?.[1] !== keys[index]) return null
    result[match[1]] = Number(match[2])
  }
  return result
}
