/** The hasher module on its own: each algorithm's round trip, Unicode forms, and refused rows. */
import { describe, expect, it, vi } from 'vitest'
import {
  PBKDF2_POLICY,
  SCRYPT_POLICY,
  hashPassword,
  hashPasswordWith,
  parsePasswordHash,
  pbkdf2Sha256,
  scryptHasher,
  verifyPassword,
} from '../src/auth/password'
import type { PasswordPolicy } from '../src/auth/password'

const PASSWORD = 'correct horse battery staple'
const POLICIES: PasswordPolicy<unknown>[] = [SCRYPT_POLICY, PBKDF2_POLICY]

describe('password hashers', () => {
  for (const policy of POLICIES) {
    const id = policy.hasher.id

    it(`${id} hashes to a PHC string that names the algorithm and its parameters`, async () => {
      const stored = await hashPasswordWith(policy, PASSWORD)
      const params = policy.hasher.formatParams(policy.params)
      expect(stored).toMatch(
        new RegExp(`^\\$${id}\\$${params}\\$[A-Za-z0-9_-]{22}\\$[A-Za-z0-9_-]{43}$`)
      )
    })

    it(`${id} accepts the same password and refuses another`, async () => {
      const stored = await hashPasswordWith(policy, PASSWORD)
      expect((await verifyPassword(PASSWORD, stored)).valid).toBe(true)
      expect((await verifyPassword(`${PASSWORD}!`, stored)).valid).toBe(false)
      expect((await verifyPassword('Correct horse battery staple', stored)).valid).toBe(false)
    })

    it(`${id} salts each hash, so the same password never hashes alike twice`, async () => {
      const [first, second] = [
        await hashPasswordWith(policy, PASSWORD),
        await hashPasswordWith(policy, PASSWORD),
      ]
      expect(first).not.toBe(second)
    })
  }

  it('matches a password typed in another Unicode form (NFKC)', async () => {
    const composed = 'caf\u00e9 au lait ﬁne'
    const decomposed = 'cafe\u0301 au lait fine'
    const stored = await hashPassword(composed)
    expect((await verifyPassword(decomposed, stored)).valid).toBe(true)
    const fullWidth = await hashPassword('Ｐａｓｓｗｏｒｄ１２３')
    expect((await verifyPassword('Password123', fullWidth)).valid).toBe(true)
  })

  it('asks for a rehash only for a correct password under another policy', async () => {
    const current = await hashPassword(PASSWORD)
    expect(await verifyPassword(PASSWORD, current)).toEqual({ valid: true, needsRehash: false })
    // The same PBKDF2 row under a deployment configured for scrypt is stale.
    expect(await verifyPassword(PASSWORD, current, SCRYPT_POLICY)).toEqual({
      valid: true,
      needsRehash: true,
    })

    const old = await hashPasswordWith(PBKDF2_POLICY, PASSWORD)
    expect(await verifyPassword(PASSWORD, old, SCRYPT_POLICY)).toEqual({
      valid: true,
      needsRehash: true,
    })
    expect(await verifyPassword('not the password', old, SCRYPT_POLICY)).toEqual({
      valid: false,
      needsRehash: false,
    })

    const otherScrypt = await hashPasswordWith(
      { hasher: scryptHasher, params: { logN: 13, r: 8, p: 10 } },
      PASSWORD
    )
    expect(await verifyPassword(PASSWORD, otherScrypt, SCRYPT_POLICY)).toEqual({
      valid: true,
      needsRehash: true,
    })
    const currentScrypt = await hashPasswordWith(SCRYPT_POLICY, PASSWORD)
    expect(await verifyPassword(PASSWORD, currentScrypt, SCRYPT_POLICY)).toEqual({
      valid: true,
      needsRehash: false,
    })
  })

  it('refuses crafted or damaged rows without running any derivation', async () => {
    const good = await hashPasswordWith(SCRYPT_POLICY, PASSWORD)
    const [, , , salt, hash] = good.split('$')
    const crafted = [
      '',
      PASSWORD,
      good.slice(0, good.length - 10),
      good.slice(0, good.lastIndexOf('$')),
      `${good}$`,
      `$scrypt$ln=14,r=8,p=5$${salt}$${hash}!!`,
      `$scrypt$ln=14,r=8,p=5$${salt}$${hash.slice(0, -2)}`,
      `$scrypt$ln=14,r=8,p=5$AAAA$${hash}`,
      `$scrypt$ln=30,r=8,p=1$${salt}$${hash}`,
      `$scrypt$ln=15,r=16,p=1$${salt}$${hash}`,
      `$scrypt$ln=14,r=8,p=16$${salt}$${hash}`,
      `$scrypt$ln=10,r=8,p=1$${salt}$${hash}`,
      `$scrypt$ln=14,r=1,p=5$${salt}$${hash}`,
      `$scrypt$ln=14,r=8,p=0$${salt}$${hash}`,
      `$scrypt$r=8,ln=14,p=5$${salt}$${hash}`,
      `$scrypt$ln=14,r=8,p=5,x=1$${salt}$${hash}`,
      `$scrypt$ln=-14,r=8,p=5$${salt}$${hash}`,
      `$scrypt$ln=1e3,r=8,p=5$${salt}$${hash}`,
      `$SCRYPT$ln=14,r=8,p=5$${salt}$${hash}`,
      `$pbkdf2-sha256$i=999999999$${salt}$${hash}`,
      `$pbkdf2-sha256$i=100001$${salt}$${hash}`,
      `$pbkdf2-sha256$i=9999$${salt}$${hash}`,
      `$argon2id$v=19$m=65536,t=3,p=4$${salt}$${hash}`,
      `$2b$12$${salt}${hash}`,
      `$scrypt$ln=14,r=8,p=5$${'A'.repeat(300)}$${hash}`,
    ]
    const scryptDerive = vi.spyOn(scryptHasher, 'derive')
    const pbkdf2Derive = vi.spyOn(pbkdf2Sha256, 'derive')
    for (const stored of crafted) {
      expect(parsePasswordHash(stored), stored).toBeNull()
      expect(await verifyPassword(PASSWORD, stored), stored).toEqual({
        valid: false,
        needsRehash: false,
      })
    }
    expect(scryptDerive).not.toHaveBeenCalled()
    expect(pbkdf2Derive).not.toHaveBeenCalled()
  })
})
