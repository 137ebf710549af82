/** Password storage seen from a client and from the users table: login, upgrades, crafted rows. */
import { env } from 'cloudflare:test'
import { describe, expect, it, vi } from 'vitest'
import {
  PBKDF2_MIN_ITERATIONS,
  PBKDF2_POLICY,
  SCRYPT_POLICY,
  hashPasswordWith,
  pbkdf2Sha256,
  scryptHasher,
} from '../src/auth/password'
import { loginUser, registerUser, uniqueEmail, login } from './helpers/accounts'
import { apiWithEnv, expectError } from './helpers/requests'
import { d1PausingAfter } from './helpers/storage-faults'

/** The worker as a deployment with PASSWORD_HASH = "scrypt" runs it, on the same D1 and KV. */
const postWithScrypt = (path: string, json: unknown): Promise<Response> =>
  apiWithEnv({ PASSWORD_HASH: 'scrypt' }, path, { json })
const loginWithScrypt = (email: string, password: string) =>
  postWithScrypt('/auth/login', { email, password })

const storedHash = async (email: string): Promise<string> => {
  const row = await env.DB.prepare('SELECT password_hash FROM users WHERE email = ?1')
    .bind(email)
    .first<{
      password_hash: string
    }>()
  if (!row) throw new Error(`no user ${email}`)
  return row.password_hash
}

/** A user written straight into D1, as a row from before the current policy would be. */
const insertUser = async (email: string, passwordHash: string): Promise<void> => {
  const now = new Date().toISOString()
  await env.DB.prepare(
    'INSERT INTO users (id, email, nickname, password_hash, created_at, updated_at) VALUES (?1, ?2, NULL, ?3, ?4, ?4)'
  )
    .bind(crypto.randomUUID(), email, passwordHash, now)
    .run()
}

const DEFAULT_PREFIX = `$pbkdf2-sha256$i=${PBKDF2_POLICY.params.iterations}$`
const { logN, r, p } = SCRYPT_POLICY.params
const SCRYPT_PREFIX = `$scrypt$ln=${logN},r=${r},p=${p}$`

describe('password storage', () => {
  it('POST /auth/register stores a self-describing PBKDF2 hash by default, never the password', async () => {
    const account = await registerUser({ password: 'a long and unusual passphrase' })
    const stored = await storedHash(account.email)
    expect(stored.startsWith(DEFAULT_PREFIX)).toBe(true)
    expect(stored).not.toContain('passphrase')
    await loginUser(account.email, account.password)
  })

  it('POST /auth/register stores a scrypt hash when PASSWORD_HASH is scrypt', async () => {
    const email = uniqueEmail()
    const password = 'a long and unusual passphrase'
    const res = await postWithScrypt('/auth/register', { email, password })
    expect(res.status).toBe(201)
    const stored = await storedHash(email)
    expect(stored.startsWith(SCRYPT_PREFIX)).toBe(true)
    expect(stored).not.toContain('passphrase')
    expect((await loginWithScrypt(email, password)).status).toBe(200)
  })

  // Names every object inherits (constructor, toString) are no policy either: md5 alone would
  // pass against a lookup that forgot to ask for an own property.
  it.each(['md5', 'constructor', 'toString'])(
    'refuses PASSWORD_HASH=%s with 500 server_misconfigured before any write',
    async (name) => {
      const email = uniqueEmail()
      const res = await apiWithEnv({ PASSWORD_HASH: name }, '/auth/register', {
        json: { email, password: 'a long and unusual passphrase' },
      })
      await expectError(res, 500, 'server_misconfigured')
      expect(
        await env.DB.prepare('SELECT 1 FROM users WHERE email = ?1').bind(email).first()
      ).toBeNull()
    }
  )

  it('POST /auth/login accepts the password typed in another Unicode form', async () => {
    const account = await registerUser({ password: 'cafe\u0301 ｓｅｃｒｅｔ ﬁle' })
    await loginUser(account.email, 'caf\u00e9 secret file')
  })

  it('POST /auth/login refuses a wrong password with 401 and leaves the hash alone', async () => {
    const account = await registerUser()
    const before = await storedHash(account.email)
    await expectError(
      await login(account.email, 'not the password at all'),
      401,
      'invalid_credentials'
    )
    expect(await storedHash(account.email)).toBe(before)
  })

  it('POST /auth/login upgrades a PBKDF2 hash to scrypt once PASSWORD_HASH is scrypt, and the password keeps working', async () => {
    const email = uniqueEmail()
    const password = 'an old account from the PBKDF2 days'
    const old = await hashPasswordWith(PBKDF2_POLICY, password)
    expect(old.startsWith('$pbkdf2-sha256$i=100000$')).toBe(true)
    await insertUser(email, old)

    expect((await loginWithScrypt(email, password)).status).toBe(200)
    const upgraded = await storedHash(email)
    expect(upgraded.startsWith(SCRYPT_PREFIX)).toBe(true)

    expect((await loginWithScrypt(email, password)).status).toBe(200)
    expect(await storedHash(email)).toBe(upgraded)
    await expectError(
      await loginWithScrypt(email, 'not the password at all'),
      401,
      'invalid_credentials'
    )
    // A deployment back on the default reads the scrypt row and moves it to PBKDF2 again.
    await loginUser(email, password)
    expect((await storedHash(email)).startsWith(DEFAULT_PREFIX)).toBe(true)
  })

  // The rehash is awaited inside its best-effort wrapper: a failed write is one warning line and
  // the login still succeeds, never an unhandled rejection nobody logs.
  it('POST /auth/login answers 200 and logs one warning when the rehash write fails', async () => {
    const email = uniqueEmail()
    const password = 'an old account whose upgrade fails'
    await insertUser(email, await hashPasswordWith(PBKDF2_POLICY, password))
    const lost = () => Promise.reject(new Error('the answer of the rehash write was lost'))
    const db = d1PausingAfter(env.DB, /^\s*UPDATE users SET password_hash/i, lost)
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {})

    const res = await apiWithEnv({ PASSWORD_HASH: 'scrypt', DB: db }, '/auth/login', {
      json: { email, password },
    })

    expect(res.status).toBe(200)
    const warnings = warn.mock.calls.map(([line]) => JSON.parse(String(line)) as { msg: string })
    expect(warnings.filter(({ msg }) => msg === 'password rehash failed')).toHaveLength(1)
  })

  it('POST /auth/login upgrades a scrypt hash made with other accepted parameters', async () => {
    const email = uniqueEmail()
    const password = 'weaker parameters, same algorithm'
    await insertUser(
      email,
      await hashPasswordWith({ hasher: scryptHasher, params: { logN: 13, r: 8, p: 10 } }, password)
    )

    expect((await loginWithScrypt(email, password)).status).toBe(200)
    expect((await storedHash(email)).startsWith(SCRYPT_PREFIX)).toBe(true)
  })

  it('POST /auth/login accepts a PBKDF2 row at exactly the minimum iteration count and upgrades it; one fewer is refused', async () => {
    const password = 'an account hashed at the lowest count still trusted'
    const at = (iterations: number) =>
      hashPasswordWith({ hasher: pbkdf2Sha256, params: { iterations } }, password)
    const [lowest, below] = [uniqueEmail(), uniqueEmail()]
    const lowestRow = await at(PBKDF2_MIN_ITERATIONS)
    const belowRow = await at(PBKDF2_MIN_ITERATIONS - 1)
    expect(lowestRow.startsWith(`$pbkdf2-sha256$i=${PBKDF2_MIN_ITERATIONS}$`)).toBe(true)
    await insertUser(lowest, lowestRow)
    await insertUser(below, belowRow)

    expect((await login(lowest, password)).status).toBe(200)
    expect((await storedHash(lowest)).startsWith(DEFAULT_PREFIX)).toBe(true)
    await expectError(await login(below, password), 401, 'invalid_credentials')
    expect(await storedHash(below)).toBe(belowRow)
  })

  it('POST /auth/login does not upgrade a PBKDF2 hash when the password is wrong', async () => {
    const email = uniqueEmail()
    const old = await hashPasswordWith(PBKDF2_POLICY, 'the real password')
    await insertUser(email, old)

    await expectError(await login(email, 'a guessed password'), 401, 'invalid_credentials')
    expect(await storedHash(email)).toBe(old)
  })

  it("POST /auth/login runs the configured policy's derivation for an unknown email, as for a wrong password", async () => {
    const email = uniqueEmail()
    expect(
      (await postWithScrypt('/auth/register', { email, password: 'the right password' })).status
    ).toBe(201)
    const derive = vi.spyOn(scryptHasher, 'derive')
    const pbkdf2 = vi.spyOn(pbkdf2Sha256, 'derive')

    await expectError(
      await loginWithScrypt(email, 'not the password at all'),
      401,
      'invalid_credentials'
    )
    const forWrongPassword = derive.mock.calls.map(([, salt, params]) => ({
      saltBytes: salt.length,
      params,
    }))
    derive.mockClear()
    await expectError(
      await loginWithScrypt(uniqueEmail(), 'not the password at all'),
      401,
      'invalid_credentials'
    )
    const forUnknownEmail = derive.mock.calls.map(([, salt, params]) => ({
      saltBytes: salt.length,
      params,
    }))

    expect(forWrongPassword).toEqual([
      {
        saltBytes: 16,
        params: { logN, r, p },
      },
    ])
    expect(forUnknownEmail).toEqual(forWrongPassword)
    expect(pbkdf2).not.toHaveBeenCalled()
  })

  it("POST /auth/login answers tampered stored hashes with a clean 401, after the current policy's one derivation (an unknown email's cost), never the row's parameters", async () => {
    const account = await registerUser()
    const good = await storedHash(account.email)
    const password = account.password
    const [, , , salt, hash] = good.split('$')
    const tampered = {
      'bad base64 in the hash': `${DEFAULT_PREFIX}${salt}$${hash.slice(0, -3)}+/=`,
      'bad base64 in the salt': `${DEFAULT_PREFIX}${salt.slice(0, -2)}.*$${hash}`,
      'absurd PBKDF2 iterations': `$pbkdf2-sha256$i=999999999$${salt}$${hash}`,
      'PBKDF2 above the Workers cap': `$pbkdf2-sha256$i=100001$${salt}$${hash}`,
      // The row's own hash and iteration count, after junk an unanchored pattern would skip.
      'junk before the parameter name': `$pbkdf2-sha256$#i=${PBKDF2_POLICY.params.iterations}$${salt}$${hash}`,
      'a second value before the real one': `$pbkdf2-sha256$i=1;i=${PBKDF2_POLICY.params.iterations}$${salt}$${hash}`,
      'scrypt N=2^30': `$scrypt$ln=30,r=8,p=1$${salt}$${hash}`,
      'scrypt over the memory budget': `$scrypt$ln=15,r=32,p=1$${salt}$${hash}`,
      'scrypt over the work budget': `$scrypt$ln=15,r=8,p=16$${salt}$${hash}`,
      'unknown algorithm': `$argon2id$v=19$m=1048576,t=100,p=8$${salt}$${hash}`,
      'truncated string': good.slice(0, 30),
      'plain text': password,
      empty: '',
    }
    // The worker shares this module instance, so the spies see every derivation a login runs.
    const derivations = [vi.spyOn(scryptHasher, 'derive'), vi.spyOn(pbkdf2Sha256, 'derive')]
    await loginUser(account.email, password)
    expect(derivations[1]).toHaveBeenCalledTimes(1)
    derivations[1].mockClear()

    for (const [what, row] of Object.entries(tampered)) {
      // A fresh account per row, so the per-account throttle never answers instead.
      const email = uniqueEmail()
      await insertUser(email, row)
      const res = await login(email, password)
      expect(res.status, what).toBe(401)
      expect(await res.json(), what).toEqual({
        error: 'invalid_credentials',
        message: expect.any(String),
      })
      expect(await storedHash(email), what).toBe(row)
      // No faster answer than an unknown email's (a passwordless account has an empty row), and
      // none of the row's own parameters is ever run.
      expect(derivations[1], what).toHaveBeenCalledTimes(1)
      expect(JSON.stringify(derivations[1].mock.calls), what).not.toMatch(/999999999|100001/)
      derivations[1].mockClear()
    }
    expect(derivations[0]).not.toHaveBeenCalled()
  })
})
