/**
 * The password policy against the limits of deployed Workers, which `wrangler dev` and the test
 * pool do not enforce: PBKDF2 above 100 000 iterations works here and fails in production.
 */
import { describe, expect, it } from 'vitest'
import passwordNotes from '../docs/passwords.md?raw'
import {
  DEFAULT_POLICY,
  PBKDF2_MAX_ITERATIONS,
  PBKDF2_MIN_ITERATIONS,
  PBKDF2_POLICY,
  SCRYPT_POLICY,
  SCRYPT_MAX,
  SCRYPT_MAX_MEMORY_BYTES,
  SCRYPT_MAX_WORK,
  SCRYPT_MIN,
  pbkdf2Sha256,
  scryptHasher,
  scryptMemoryBytes,
  scryptParamsAccepted,
} from '../src/auth/password'

/** workerd issue 1346: deployed Workers throw on PBKDF2 with more iterations than this. */
const WORKERS_PBKDF2_CAP = 100_000
/** A Worker isolate's memory limit; the scrypt table must leave most of it to the app. */
const ISOLATE_MEMORY_BYTES = 128 * 1024 * 1024
const MiB = 1024 * 1024

/** OWASP Password Storage Cheat Sheet: scrypt minimums, all with r = 8 (N as log2, p). */
const OWASP_SCRYPT = [
  { logN: 17, p: 1 },
  { logN: 16, p: 2 },
  { logN: 15, p: 3 },
  { logN: 14, p: 5 },
  { logN: 13, p: 10 },
]

describe('platform limits', () => {
  it('configures PBKDF2 within the deployed Workers cap', () => {
    expect(PBKDF2_MAX_ITERATIONS).toBeLessThanOrEqual(WORKERS_PBKDF2_CAP)
    expect(PBKDF2_POLICY.params.iterations).toBeLessThanOrEqual(WORKERS_PBKDF2_CAP)
  })

  it('never accepts a stored PBKDF2 count above the cap, so no row can fail only in production', () => {
    expect(pbkdf2Sha256.parseParams(`i=${WORKERS_PBKDF2_CAP}`)).toEqual({
      iterations: WORKERS_PBKDF2_CAP,
    })
    expect(pbkdf2Sha256.parseParams(`i=${WORKERS_PBKDF2_CAP + 1}`)).toBeNull()
    expect(pbkdf2Sha256.parseParams(`i=${PBKDF2_MIN_ITERATIONS - 1}`)).toBeNull()
    expect(pbkdf2Sha256.parseParams('i=99999999')).toBeNull()
  })

  it('keeps every scrypt shape it accepts within the memory budget, a quarter of the isolate', () => {
    expect(SCRYPT_MAX_MEMORY_BYTES).toBeLessThanOrEqual(ISOLATE_MEMORY_BYTES / 3)
    for (let logN = SCRYPT_MIN.logN; logN <= SCRYPT_MAX.logN + 1; logN++) {
      for (let r = SCRYPT_MIN.r; r <= SCRYPT_MAX.r + 1; r++) {
        for (let p = SCRYPT_MIN.p; p <= SCRYPT_MAX.p + 1; p++) {
          const params = { logN, r, p }
          if (!scryptParamsAccepted(params)) continue
          expect(scryptMemoryBytes(params), JSON.stringify(params)).toBeLessThanOrEqual(
            SCRYPT_MAX_MEMORY_BYTES
          )
          expect(2 ** logN * r * p, JSON.stringify(params)).toBeLessThanOrEqual(SCRYPT_MAX_WORK)
        }
      }
    }
  })

  it('hashes with PBKDF2 at the Workers cap by default, as the contract says', () => {
    expect(DEFAULT_POLICY).toBe(PBKDF2_POLICY)
    expect(PBKDF2_POLICY.params.iterations).toBe(WORKERS_PBKDF2_CAP)
  })

  it('offers scrypt parameters that meet an OWASP minimum and fit the budget', () => {
    expect(SCRYPT_POLICY.hasher).toBe(scryptHasher)
    const { logN, r, p } = SCRYPT_POLICY.params
    expect(r).toBeGreaterThanOrEqual(8)
    const meetsOwasp = OWASP_SCRYPT.some((minimum) => logN >= minimum.logN && p >= minimum.p)
    expect(meetsOwasp).toBe(true)
    expect(scryptParamsAccepted({ logN, r, p })).toBe(true)
    expect(scryptMemoryBytes({ logN, r, p })).toBeLessThanOrEqual(SCRYPT_MAX_MEMORY_BYTES)
  })

  it('matches what docs/passwords.md says about the policy and the accepted bounds', () => {
    const section = passwordNotes
    const { logN, r, p } = SCRYPT_POLICY.params
    expect(section).toContain(
      `Default: PBKDF2-SHA256, ${PBKDF2_POLICY.params.iterations} iterations`
    )
    expect(section).toContain(`PASSWORD_HASH=scrypt: N=2^${logN}, r=${r}, p=${p}`)
    expect(section).toContain(
      `PBKDF2-SHA256: ${PBKDF2_MIN_ITERATIONS} to ${PBKDF2_MAX_ITERATIONS} iterations`
    )
    expect(section).toContain(`scrypt: N=2^${SCRYPT_MIN.logN} to 2^${SCRYPT_MAX.logN}`)
    expect(section).toContain(`${SCRYPT_MAX_MEMORY_BYTES / MiB} MiB`)
  })
})
