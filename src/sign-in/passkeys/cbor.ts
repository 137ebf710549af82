/**
 * A strict CBOR decoder (RFC 8949) for what WebAuthn encodes in it: the attestation object and
 * COSE keys. It reads attacker input, so it accepts only what those need: definite lengths, no
 * tags, floats or simple values, every length checked against the bytes left, bounded nesting and
 * item counts, text that is valid UTF-8, map keys that are integers or text and never repeat.
 * One pass, linear in the input; anything else is an invalid passkey.
 */

import { refuse } from './errors'

export type CborValue = number | string | Uint8Array | CborValue[] | CborMap
export type CborMap = Map<number | string, CborValue>

/** Deeper than any WebAuthn structure (attestation object > attStmt > x5c array > bytes). */
const MAX_DEPTH = 4
/** Entries of one array or map; a COSE key has at most 5, an attestation object 3. */
const MAX_ITEMS = 16

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

/** Decodes the one item that starts at `offset`; `end` is where it stops. */
export const decodeCbor = (bytes: Uint8Array, offset = 0): { value: CborValue; end: number } => {
  let at = offset
  /** Reserves `length` bytes and returns where they start. */
  const take = (length: number): number => {
    if (length > bytes.length - at) refuse()
    at += length
    return at - length
  }
  const argument = (info: number): number => {
    if (info < 24) return info
    // 28-30 are reserved, 31 is an indefinite length.
    if (info > 27) refuse()
    const size = 1 << (info - 24)
    const start = take(size)
    let value = 0
    for (let i = 0; i < size; i++) value = value * 256 + bytes[start + i]
    return value > Number.MAX_SAFE_INTEGER ? refuse() : value
  }
  const item = (depth: number): CborValue => {
    const initial = bytes[take(1)]
    const major = initial >> 5
    const count = argument(initial & 31)
    if (major === 0) return count
    if (major === 1) return -1 - count
    if (major === 2) return bytes.slice(take(count), at)
    if (major === 3) {
      try {
        return strictUtf8.decode(bytes.subarray(take(count), at))
      } catch {
        return refuse()
      }
    }
    if ((major !== 4 && major !== 5) || depth >= MAX_DEPTH || count > MAX_ITEMS) return refuse()
    if (major === 4) {
      const list: CborValue[] = []
      for (let i = 0; i < count; i++) list.push(item(depth + 1))
      return list
    }
    const map: CborMap = new Map()
    for (let i = 0; i < count; i++) {
      const key = item(depth + 1)
      if ((typeof key !== 'number' && typeof key !== 'string') || map.has(key)) refuse()
      map.set(key, item(depth + 1))
    }
    return map
  }
  const value = item(0)
  return { value, end: at }
}
