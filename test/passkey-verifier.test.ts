/**
 * The verifier's parts on their own, with hand-made bytes: the strict CBOR decoder's limits
 * (attacker input), DER to raw ECDSA signatures, and COSE keys. Every refusal is InvalidPasskey.
 */
import { describe, expect, it } from 'vitest'
import { decodeCbor } from '../src/sign-in/passkeys/cbor'
import { InvalidPasskey } from '../src/sign-in/passkeys/errors'
import { coseToJwk, derToRawSignature } from '../src/sign-in/passkeys/webauthn'
import { encodeCbor, rawToDer } from './helpers/authenticator'
import type { CborInput } from './helpers/authenticator'

const bytes = (...values: number[]) => Uint8Array.from(values)

describe('the CBOR decoder', () => {
  it('reads what WebAuthn writes: maps with integer and text keys, byte strings, negatives', () => {
    const input = new Map<number | string, CborInput>([
      [1, 2],
      [-1, 1],
      ['fmt', 'none'],
      ['authData', bytes(1, 2, 3)],
      [-257, [1, 'é']],
    ])
    const { value, end } = decodeCbor(encodeCbor(input))
    expect(value).toEqual(input)
    expect(end).toBe(encodeCbor(input).length)
  })

  it('reads 8-byte arguments (additional info 27) up to 2^53 - 1', () => {
    // The refusals below with an 8-byte argument fail for other reasons (past the end, past
    // 2^53): these are the ones a decoder that refused info 27 outright would get wrong.
    expect(decodeCbor(Uint8Array.from([0x1b, 0, 0, 0, 0, 0, 0, 0, 5])).value).toBe(5)
    expect(
      decodeCbor(Uint8Array.from([0x1b, 0x00, 0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])).value
    ).toBe(Number.MAX_SAFE_INTEGER)
    expect(decodeCbor(Uint8Array.from([0x5b, 0, 0, 0, 0, 0, 0, 0, 2, 7, 8])).value).toEqual(
      bytes(7, 8)
    )
  })

  it('says where an item ends, for the next one to start there', () => {
    const first = encodeCbor(new Map([[1, 2]]))
    const both = new Uint8Array([...first, ...encodeCbor('next')])
    expect(decodeCbor(both).end).toBe(first.length)
    expect(decodeCbor(both, first.length).value).toBe('next')
  })

  it.each([
    ['an empty input', []],
    ['a truncated byte string', [0x43, 1, 2]],
    ['a length past the end (8-byte argument)', [0x5b, 0, 0, 0, 1, 0, 0, 0, 0]],
    ['an integer beyond 2^53', [0x1b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]],
    ['a reserved additional info (28)', [0x1c]],
    ['an indefinite-length map', [0xbf, 0xff]],
    ['a tag', [0xc0, 0x00]],
    ['a float', [0xfa, 0, 0, 0, 0]],
    ['true', [0xf5]],
    ['text that is not UTF-8', [0x62, 0xc3, 0x28]],
    ['a map key that is a byte string', [0xa1, 0x41, 0x00, 0x00]],
    ['a repeated map key', [0xa2, 0x01, 0x00, 0x01, 0x00]],
    ['a map of 2^32 entries', [0xba, 0xff, 0xff, 0xff, 0xff]],
    ['an array of 17 items', [0x91, ...new Array<number>(17).fill(0)]],
  ])('refuses %s', (_, input) => {
    expect(() => decodeCbor(Uint8Array.from(input))).toThrow(InvalidPasskey)
  })

  it('refuses nesting deeper than WebAuthn needs (4), and reads it up to there', () => {
    const nest = (depth: number): CborInput => (depth === 0 ? 0 : [nest(depth - 1)])
    expect(() => decodeCbor(encodeCbor(nest(4)))).not.toThrow()
    expect(() => decodeCbor(encodeCbor(nest(5)))).toThrow(InvalidPasskey)
  })

  it('decodes a 16 KiB byte string in one pass', () => {
    const big = new Uint8Array(16 * 1024).fill(7)
    expect((decodeCbor(encodeCbor(big)).value as Uint8Array).length).toBe(big.length)
  })
})

describe('DER signatures to raw r ‖ s', () => {
  it('round-trips halves with and without a sign byte or leading zeros', () => {
    for (const [r0, s0] of [
      [0x80, 0x01],
      [0x00, 0x7f],
      [0x00, 0x00],
    ]) {
      const raw = new Uint8Array(64).fill(0x55)
      raw[0] = r0
      raw[1] = 0
      raw[32] = s0
      expect(derToRawSignature(rawToDer(raw))).toEqual(raw)
    }
  })

  it.each([
    ['not a SEQUENCE', [0x31, 6, 2, 1, 1, 2, 1, 1]],
    ['a wrong outer length', [0x30, 7, 2, 1, 1, 2, 1, 1]],
    ['an INTEGER running past the end', [0x30, 6, 2, 9, 1, 2, 1, 1]],
    ['a zero-length INTEGER', [0x30, 5, 2, 0, 2, 1, 1]],
    [
      'a 33-byte INTEGER without its zero',
      [0x30, 38, 2, 33, ...new Array<number>(33).fill(1), 2, 1, 1],
    ],
    ['trailing bytes', [0x30, 7, 2, 1, 1, 2, 1, 1, 0]],
    ['a truncated second INTEGER', [0x30, 4, 2, 1, 1, 2]],
  ])('refuses %s', (_, der) => {
    expect(() => derToRawSignature(Uint8Array.from(der))).toThrow(InvalidPasskey)
  })
})

describe('COSE keys', () => {
  const key = (...entries: [number, CborInput][]) =>
    new Map<number | string, never>(entries as never)

  it('reads EdDSA, ES256 and RS256 keys as JWKs', () => {
    expect(coseToJwk(key([1, 1], [3, -8], [-1, 6], [-2, new Uint8Array(32)])).jwk).toMatchObject({
      kty: 'OKP',
      crv: 'Ed25519',
    })
    const ec = key([1, 2], [3, -7], [-1, 1], [-2, new Uint8Array(32)], [-3, new Uint8Array(32)])
    expect(coseToJwk(ec).jwk).toMatchObject({ kty: 'EC', crv: 'P-256' })
    const rsa = key([1, 3], [3, -257], [-1, new Uint8Array(256)], [-2, bytes(1, 0, 1)])
    expect(coseToJwk(rsa)).toMatchObject({ algorithm: -257, jwk: { kty: 'RSA', e: 'AQAB' } })
  })

  it.each([
    ['an unknown algorithm (ES384)', key([1, 2], [3, -35], [-1, 2], [-2, new Uint8Array(48)])],
    [
      'ES256 on another curve',
      key([1, 2], [3, -7], [-1, 2], [-2, new Uint8Array(32)], [-3, new Uint8Array(32)]),
    ],
    ['EdDSA with a short key', key([1, 1], [3, -8], [-1, 6], [-2, new Uint8Array(31)])],
    ['EdDSA on X448', key([1, 1], [3, -8], [-1, 7], [-2, new Uint8Array(57)])],
    [
      'an algorithm that does not match the key type',
      key([1, 1], [3, -7], [-1, 1], [-2, new Uint8Array(32)]),
    ],
    ['RS256 of 1024 bits', key([1, 3], [3, -257], [-1, new Uint8Array(128)], [-2, bytes(1, 0, 1)])],
    [
      'RS256 of 8192 bits',
      key([1, 3], [3, -257], [-1, new Uint8Array(1024)], [-2, bytes(1, 0, 1)]),
    ],
  ])('refuses %s', (_, cose) => {
    expect(() => coseToJwk(cose)).toThrow(InvalidPasskey)
  })
})
