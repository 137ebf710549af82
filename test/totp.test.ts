/**
 * TOTP as a second factor: RFC 6238 itself, setting it up, signing in with a code or a recovery
 * code, turning it off, and the attacks on each (replays, races, brute force across mfa_tokens,
 * another account's token or code, a stolen access token without a code).
 */
import { env } from 'cloudflare:test'
import { beforeEach, describe, expect, it } from 'vitest'
import { importTotpKey, toBase32, totpCode } from '../src/sign-in/totp/rfc6238'
import { mfaKeys, openSecret, sealSecret } from '../src/sign-in/totp/secrets'
import { PASSWORD, expectTokenResponse, registerUser } from './helpers/accounts'
import type { Account } from './helpers/accounts'
import { advanceClock, pinClock } from './helpers/clock'
import { COOKIE_MODE, SAME_ORIGIN, setCookies } from './helpers/cookies'
import {
  forgot,
  resetPassword,
  resetTokenFor,
  verificationTokenFor,
  verifyEmail,
} from './helpers/recovery'
import { api, apiWithEnv, callApp, expectError } from './helpers/requests'
import { refresh, sessionIdOf } from './helpers/sessions'
import { Barrier, d1PausingAfter } from './helpers/storage-faults'
import { decodeJwt, sha256Base64Url } from './helpers/tokens'
import {
  base32Decode,
  enrolTotp,
  loginForChallenge,
  reauthenticateWithTotp,
  totpAt,
  verifyMfa,
} from './helpers/totp'
import type { Enrolment } from './helpers/totp'

const STEP_MS = 30_000

const countRows = async (sql: string, ...values: unknown[]) =>
  Number(
    (
      await env.DB.prepare(sql)
        .bind(...values)
        .first<{ n: number }>()
    )?.n
  )

const sessionCount = (userId: string) =>
  countRows('SELECT count(*) AS n FROM sessions WHERE user_id = ?1', userId)

/** An account with TOTP on, the clock pinned, and the next step's code ready to use. */
const enrolledAccount = async (): Promise<Account & Enrolment> => {
  const account = await registerUser()
  const enrolment = await enrolTotp(account.accessToken)
  // The confirming code used the current step: sign-ins need the next one.
  advanceClock(30)
  return { ...account, ...enrolment }
}

/**
 * The account's session proven again with a TOTP code, as the fresh routes of an account with a
 * second factor need (its password sign-in predates the factor); then the clock's next step.
 */
const provenWithTotp = async (account: Account & Enrolment) => {
  const token = await reauthenticateWithTotp(account.accessToken, account.secret)
  advanceClock(30)
  return token
}

beforeEach(() => {
  // A whole step from its start, so that nothing crosses a step boundary unless a test moves it.
  pinClock(Math.floor(Date.now() / STEP_MS) * STEP_MS)
})

describe('RFC 6238', () => {
  // Appendix B, SHA-1 column: the ASCII secret "12345678901234567890", 8 digits.
  const VECTORS: [number, string][] = [
    [59, '94287082'],
    [1_111_111_109, '07081804'],
    [1_111_111_111, '14050471'],
    [1_234_567_890, '89005924'],
    [2_000_000_000, '69279037'],
    [20_000_000_000, '65353130'],
  ]

  it('gives the appendix B codes for HMAC-SHA-1 (8 digits, and their last 6)', async () => {
    const key = await importTotpKey(new TextEncoder().encode('12345678901234567890'))
    for (const [seconds, code] of VECTORS) {
      const step = Math.floor(seconds / 30)
      expect(await totpCode(key, step, 8)).toBe(code)
      expect(await totpCode(key, step)).toBe(code.slice(2))
    }
  })

  it("counts steps past 2^32 with the counter's high word (RFC 4226: an 8-byte counter)", async () => {
    // No appendix vector reaches the high word; HOTP's definition does, written out here.
    const secret = new TextEncoder().encode('12345678901234567890')
    const key = await importTotpKey(secret)
    const hotp = async (counter: bigint) => {
      const message = new DataView(new ArrayBuffer(8))
      message.setBigUint64(0, counter)
      const mac = new Uint8Array(await crypto.subtle.sign('HMAC', key, message.buffer))
      const offset = mac[19] & 0x0f
      const binary = new DataView(mac.buffer).getUint32(offset) & 0x7fffffff
      return String(binary % 1_000_000).padStart(6, '0')
    }
    for (const step of [2 ** 32, 2 ** 32 + 1, 2 ** 40 + 12_345]) {
      expect(await totpCode(key, step)).toBe(await hotp(BigInt(step)))
      // Without the high word these steps would be 0, 1 and 12 345 again.
      expect(await totpCode(key, step)).not.toBe(await hotp(BigInt(step % 2 ** 32)))
    }
  })

  it('writes RFC 4648 Base32 without padding, as the test generator reads it', () => {
    const vectors = {
      f: 'MY',
      fo: 'MZXQ',
      foo: 'MZXW6',
      foob: 'MZXW6YQ',
      fooba: 'MZXW6YTB',
      foobar: 'MZXW6YTBOI',
    }
    for (const [plain, encoded] of Object.entries(vectors)) {
      expect(toBase32(new TextEncoder().encode(plain))).toBe(encoded)
      expect(new TextDecoder().decode(base32Decode(encoded))).toBe(plain)
    }
  })
})

describe('the secret at rest', () => {
  it('opens only for the account it was sealed for, under MFA_SECRET', async () => {
    const keys = await mfaKeys(env.MFA_SECRET)
    const secret = crypto.getRandomValues(new Uint8Array(20))
    const box = await sealSecret(keys, 'user-a', secret)
    expect(await openSecret(keys, 'user-a', box)).toEqual(secret)
    expect(await openSecret(keys, 'user-b', box)).toBeNull()
    const otherKeys = await mfaKeys('another-mfa-secret-that-is-long-enough-00000')
    expect(await openSecret(otherKeys, 'user-a', box)).toBeNull()
  })

  it('is stored encrypted; recovery codes only as MACs', async () => {
    const account = await enrolledAccount()
    const row = await env.DB.prepare('SELECT * FROM totp_credentials WHERE user_id = ?1')
      .bind(account.userId)
      .first<{ secret_box: string; confirmed_at: number | null }>()
    expect(row?.confirmed_at).not.toBeNull()
    const stored = JSON.stringify(row)
    expect(stored).not.toContain(account.secret)
    const raw = base32Decode(account.secret)
    expect(stored).not.toContain(btoa(String.fromCharCode(...raw)).replace(/=+$/, ''))
    const codes = await env.DB.prepare('SELECT * FROM recovery_codes WHERE user_id = ?1')
      .bind(account.userId)
      .all()
    expect(codes.results).toHaveLength(10)
    const compact = account.recoveryCodes.map((code) => code.replace(/-/g, '').toUpperCase())
    for (const code of [...account.recoveryCodes, ...compact]) {
      expect(JSON.stringify(codes.results)).not.toContain(code)
    }
  })

  it.each([
    ['a short one', 'short'],
    // A JSON [vars] value is no secret, even one whose text would be long enough.
    ['a list holding a long one', ['a-secret-long-enough-but-inside-a-json-list-0123']],
  ])(
    'answers 500 server_misconfigured with %s as MFA_SECRET, and stores nothing',
    async (_, secret) => {
      const account = await registerUser()
      const res = await apiWithEnv({ MFA_SECRET: secret as unknown as string }, '/auth/mfa/totp', {
        method: 'POST',
        token: account.accessToken,
      })
      await expectError(res, 500, 'server_misconfigured')
      expect(
        await countRows(
          'SELECT count(*) AS n FROM totp_credentials WHERE user_id = ?1',
          account.userId
        )
      ).toBe(0)
    }
  )
})

describe('setting TOTP up', () => {
  it('gives a 160-bit Base32 secret and the otpauth URI, pending until confirmed', async () => {
    const account = await registerUser()
    const res = await api('/auth/mfa/totp', { method: 'POST', token: account.accessToken })
    expect(res.status).toBe(200)
    expect(res.headers.get('Cache-Control')).toBe('no-store')
    const { secret, otpauth_uri: uri } = await res.json<{ secret: string; otpauth_uri: string }>()
    expect(secret).toMatch(/^[A-Z2-7]{32}$/)
    expect(base32Decode(secret)).toHaveLength(20)
    const issuer = encodeURIComponent(env.JWT_ISSUER)
    expect(uri).toBe(
      `otpauth://totp/${issuer}:${encodeURIComponent(account.email)}?secret=${secret}&issuer=${issuer}&algorithm=SHA1&digits=6&period=30`
    )
    const me = await (
      await api('/me', { token: account.accessToken })
    ).json<{ user: { mfa: unknown } }>()
    expect(me.user.mfa).toEqual({ totp: false, passkeys: 0 })
    // Still pending: a login is not asked for a code.
    expect(
      (await api('/auth/login', { json: { email: account.email, password: PASSWORD } })).status
    ).toBe(200)
  })

  it('confirms with a current code: 10 recovery codes of 80 bits, mfa.totp true', async () => {
    const account = await registerUser()
    const setup = await (
      await api('/auth/mfa/totp', { method: 'POST', token: account.accessToken })
    ).json<{ secret: string }>()
    const wrong = await api('/auth/mfa/totp/confirm', {
      token: account.accessToken,
      json: { code: '000000' === (await totpAt(setup.secret)) ? '111111' : '000000' },
    })
    await expectError(wrong, 401, 'invalid_mfa_code')

    const res = await api('/auth/mfa/totp/confirm', {
      token: account.accessToken,
      json: { code: await totpAt(setup.secret) },
    })
    expect(res.status).toBe(200)
    const { recovery_codes: codes } = await res.json<{ recovery_codes: string[] }>()
    expect(codes).toHaveLength(10)
    for (const code of codes) expect(code).toMatch(/^[a-z2-7]{4}(-[a-z2-7]{4}){3}$/)
    expect(new Set(codes).size).toBe(10)
    const me = await (
      await api('/me', { token: account.accessToken })
    ).json<{ user: { mfa: unknown } }>()
    expect(me.user.mfa).toEqual({ totp: true, passkeys: 0 })
  })

  it('is 409 mfa_already_enabled once on, for a new setup and a second confirmation', async () => {
    const account = await enrolledAccount()
    const token = await provenWithTotp(account)
    await expectError(
      await api('/auth/mfa/totp', { method: 'POST', token }),
      409,
      'mfa_already_enabled'
    )
    await expectError(
      await api('/auth/mfa/totp/confirm', {
        token,
        json: { code: await totpAt(account.secret) },
      }),
      409,
      'mfa_already_enabled'
    )
  })

  it('does not confirm a setup that was started again meanwhile with the old secret', async () => {
    const account = await registerUser()
    const first = await (
      await api('/auth/mfa/totp', { method: 'POST', token: account.accessToken })
    ).json<{ secret: string }>()
    await api('/auth/mfa/totp', { method: 'POST', token: account.accessToken })
    const res = await api('/auth/mfa/totp/confirm', {
      token: account.accessToken,
      json: { code: await totpAt(first.secret) },
    })
    await expectError(res, 401, 'invalid_mfa_code')
  })

  it('keeps only the winner of two racing confirmations, with its codes', async () => {
    const account = await registerUser()
    const { secret } = await (
      await api('/auth/mfa/totp', { method: 'POST', token: account.accessToken })
    ).json<{ secret: string }>()
    const code = await totpAt(secret)
    const barrier = Barrier.releasedWhenFull(2)
    const db = d1PausingAfter(env.DB, /SELECT \* FROM totp_credentials/, () => barrier.arrive())
    const confirm = () =>
      apiWithEnv({ DB: db }, '/auth/mfa/totp/confirm', {
        token: account.accessToken,
        json: { code },
      })
    const answers = await Promise.all([confirm(), confirm()])
    expect(answers.map((res) => res.status).sort()).toEqual([200, 409])
    const winner = answers.find((res) => res.status === 200)!
    const { recovery_codes: codes } = await winner.json<{ recovery_codes: string[] }>()
    expect(
      await countRows('SELECT count(*) AS n FROM recovery_codes WHERE user_id = ?1', account.userId)
    ).toBe(10)
    advanceClock(30)
    const challenge = await loginForChallenge(account.email, PASSWORD)
    expect(
      (await verifyMfa({ mfa_token: challenge.mfa_token, method: 'recovery_code', code: codes[0] }))
        .status
    ).toBe(200)
  })
})

describe('signing in with a code', () => {
  it('answers the password with 202 and starts no session', async () => {
    const account = await enrolledAccount()
    const before = await sessionCount(account.userId)
    const res = await api('/auth/login', { json: { email: account.email, password: PASSWORD } })
    expect(res.status).toBe(202)
    expect(res.headers.get('Cache-Control')).toBe('no-store')
    const body = await res.json<Record<string, unknown>>()
    expect(Object.keys(body).sort()).toEqual(['expires_in', 'methods', 'mfa_required', 'mfa_token'])
    expect(body).toMatchObject({
      mfa_required: true,
      methods: ['totp', 'recovery_code'],
      expires_in: 300,
    })
    expect(body.mfa_token).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(await sessionCount(account.userId)).toBe(before)
    // Stored only as its hash.
    const id = await sha256Base64Url(String(body.mfa_token))
    expect(await countRows('SELECT count(*) AS n FROM mfa_challenges WHERE id = ?1', id)).toBe(1)
    expect(
      await countRows('SELECT count(*) AS n FROM mfa_challenges WHERE id = ?1', body.mfa_token)
    ).toBe(0)
  })

  it('starts the session with amr ["pwd","otp"] and auth_time, which refreshing keeps', async () => {
    const account = await enrolledAccount()
    const challenge = await loginForChallenge(account.email, PASSWORD)
    const res = await verifyMfa({
      mfa_token: challenge.mfa_token,
      method: 'totp',
      code: await totpAt(account.secret),
    })
    const body = await expectTokenResponse(res, 200)
    expect(body.user.mfa).toEqual({ totp: true, passkeys: 0 })
    const claims = decodeJwt(body.access_token).payload
    expect(claims.amr).toEqual(['pwd', 'otp'])
    expect(claims.auth_time).toBe(Math.floor(Date.now() / 1000))
    advanceClock(100)
    const refreshed = await (await refresh(body.refresh_token)).json<{ access_token: string }>()
    const again = decodeJwt(refreshed.access_token).payload
    expect(again.amr).toEqual(['pwd', 'otp'])
    expect(again.auth_time).toBe(claims.auth_time)
  })

  it('works in cookie mode', async () => {
    const account = await enrolledAccount()
    const challenge = await loginForChallenge(account.email, PASSWORD)
    const res = await verifyMfa(
      { mfa_token: challenge.mfa_token, method: 'totp', code: await totpAt(account.secret) },
      { ...COOKIE_MODE, Origin: SAME_ORIGIN }
    )
    expect(res.status).toBe(200)
    expect((await res.json<Record<string, unknown>>()).auth_mode).toBe('cookie')
    expect([...setCookies(res).keys()]).toEqual(
      expect.arrayContaining(['__Host-access_token', '__Host-refresh_token'])
    )
  })

  it('accepts the previous and the next step, not two steps away', async () => {
    const account = await enrolledAccount()
    const now = Date.now()
    for (const [offset, status] of [
      [-2 * STEP_MS, 401],
      [2 * STEP_MS, 401],
      [STEP_MS, 200],
    ] as const) {
      const challenge = await loginForChallenge(account.email, PASSWORD)
      const res = await verifyMfa({
        mfa_token: challenge.mfa_token,
        method: 'totp',
        code: await totpAt(account.secret, now + offset),
      })
      expect(res.status, await res.text()).toBe(status)
    }
  })

  it('refuses a code replayed in its own step and in the next one, and an earlier step', async () => {
    const account = await enrolledAccount()
    const code = await totpAt(account.secret)
    const first = await loginForChallenge(account.email, PASSWORD)
    expect((await verifyMfa({ mfa_token: first.mfa_token, method: 'totp', code })).status).toBe(200)

    const sameStep = await loginForChallenge(account.email, PASSWORD)
    await expectError(
      await verifyMfa({ mfa_token: sameStep.mfa_token, method: 'totp', code }),
      401,
      'invalid_mfa_code'
    )
    advanceClock(30)
    // Still within the ±1 window, but its step was used.
    const nextStep = await loginForChallenge(account.email, PASSWORD)
    await expectError(
      await verifyMfa({ mfa_token: nextStep.mfa_token, method: 'totp', code }),
      401,
      'invalid_mfa_code'
    )
    // The code of the step before the used one: earlier, so refused too.
    const earlier = await totpAt(account.secret, Date.now() - 2 * STEP_MS)
    await expectError(
      await verifyMfa({ mfa_token: nextStep.mfa_token, method: 'totp', code: earlier }),
      401,
      'invalid_mfa_code'
    )
    expect(
      (
        await verifyMfa({
          mfa_token: nextStep.mfa_token,
          method: 'totp',
          code: await totpAt(account.secret),
        })
      ).status
    ).toBe(200)
  })

  it('the step that confirmed the setup cannot sign in', async () => {
    const account = await registerUser()
    const enrolment = await enrolTotp(account.accessToken)
    const challenge = await loginForChallenge(account.email, PASSWORD)
    const res = await verifyMfa({
      mfa_token: challenge.mfa_token,
      method: 'totp',
      code: await totpAt(enrolment.secret),
    })
    await expectError(res, 401, 'invalid_mfa_code')
  })

  it('lets exactly one of two racing verifies with one code win', async () => {
    const account = await enrolledAccount()
    const code = await totpAt(account.secret)
    const [a, b] = [
      await loginForChallenge(account.email, PASSWORD),
      await loginForChallenge(account.email, PASSWORD),
    ]
    // Both read the credential (last_step before the code's step) before either writes.
    const barrier = Barrier.releasedWhenFull(2)
    const db = d1PausingAfter(env.DB, /SELECT \* FROM totp_credentials/, () => barrier.arrive())
    const verify = (token: string) =>
      apiWithEnv({ DB: db }, '/auth/mfa/verify', {
        json: { mfa_token: token, method: 'totp', code },
      })
    const answers = await Promise.all([verify(a.mfa_token), verify(b.mfa_token)])
    expect(answers.map((res) => res.status).sort()).toEqual([200, 401])
    expect(barrier.arrived).toBe(2)
  })

  it('rejects an mfa_token after use, after 5 minutes, after 5 wrong codes, and a forged one', async () => {
    const account = await enrolledAccount()
    const used = await loginForChallenge(account.email, PASSWORD)
    expect(
      (
        await verifyMfa({
          mfa_token: used.mfa_token,
          method: 'totp',
          code: await totpAt(account.secret),
        })
      ).status
    ).toBe(200)
    advanceClock(30)
    await expectError(
      await verifyMfa({
        mfa_token: used.mfa_token,
        method: 'totp',
        code: await totpAt(account.secret),
      }),
      401,
      'invalid_mfa_token'
    )
    // A used token is dead whatever the code: a wrong one is not a counted (and reported) guess.
    const current = await totpAt(account.secret)
    const guess = String((Number(current) + 1) % 1_000_000).padStart(6, '0')
    await expectError(
      await verifyMfa({ mfa_token: used.mfa_token, method: 'totp', code: guess }),
      401,
      'invalid_mfa_token'
    )

    const expired = await loginForChallenge(account.email, PASSWORD)
    advanceClock(301)
    await expectError(
      await verifyMfa({
        mfa_token: expired.mfa_token,
        method: 'totp',
        code: await totpAt(account.secret),
      }),
      401,
      'invalid_mfa_token'
    )
    // Nor is a wrong code on an expired token a counted guess.
    await expectError(
      await verifyMfa({ mfa_token: expired.mfa_token, method: 'totp', code: guess }),
      401,
      'invalid_mfa_token'
    )

    const guessed = await loginForChallenge(account.email, PASSWORD)
    const right = await totpAt(account.secret)
    const wrong = right === '123456' ? '654321' : '123456'
    for (let i = 0; i < 5; i++) {
      await expectError(
        await verifyMfa({ mfa_token: guessed.mfa_token, method: 'totp', code: wrong }),
        401,
        'invalid_mfa_code'
      )
    }
    await expectError(
      await verifyMfa({ mfa_token: guessed.mfa_token, method: 'totp', code: right }),
      401,
      'invalid_mfa_token'
    )

    for (const forged of ['x', 'A'.repeat(43), 'A'.repeat(128)]) {
      await expectError(
        await verifyMfa({ mfa_token: forged, method: 'totp', code: right }),
        401,
        'invalid_mfa_token'
      )
    }
    await expectError(
      await verifyMfa({ mfa_token: 'A'.repeat(129), method: 'totp', code: right }),
      400,
      'validation_failed'
    )
    await expectError(
      await verifyMfa({ mfa_token: guessed.mfa_token, method: 'sms', code: right }),
      400,
      'validation_failed'
    )
  })

  it('checks at most 5 of 8 racing wrong answers on one mfa_token: the rest are refused unchecked', async () => {
    const account = await enrolledAccount()
    const { mfa_token: token } = await loginForChallenge(account.email, PASSWORD)
    const right = await totpAt(account.secret)
    const wrong = right === '123456' ? '654321' : '123456'
    // Each answer waits after its first statement on the token until all eight have made theirs:
    // a limit read first and counted later would let all eight through.
    const barrier = Barrier.releasedWhenFull(8)
    const db = d1PausingAfter(env.DB, /mfa_challenges/, () => barrier.arrive())
    const answers = await Promise.all(
      Array.from({ length: 8 }, () =>
        apiWithEnv({ DB: db }, '/auth/mfa/verify', {
          json: { mfa_token: token, method: 'totp', code: wrong },
        })
      )
    )
    const codes = await Promise.all(
      answers.map(async (res) => `${res.status} ${(await res.json<{ error: string }>()).error}`)
    )
    expect(codes.sort()).toEqual([
      ...Array<string>(5).fill('401 invalid_mfa_code'),
      ...Array<string>(3).fill('401 invalid_mfa_token'),
    ])
    expect(
      await countRows(
        'SELECT failures AS n FROM mfa_challenges WHERE id = ?1',
        await sha256Base64Url(token)
      )
    ).toBe(5)
    // Only the checked ones count against the account, and the dead token takes no right code.
    expect(
      await countRows('SELECT failures AS n FROM login_failures WHERE email = ?1', account.email)
    ).toBe(5)
    await expectError(
      await verifyMfa({ mfa_token: token, method: 'totp', code: right }),
      401,
      'invalid_mfa_token'
    )
  })

  it('holds the per-account throttle against guesses spread over many mfa_tokens', async () => {
    const account = await enrolledAccount()
    const right = await totpAt(account.secret)
    const wrong = right === '123456' ? '654321' : '123456'
    // 4 + 4 + 2 wrong codes on three tokens: none of them dies, the account's window is full.
    for (const guesses of [4, 4, 2]) {
      const { mfa_token: token } = await loginForChallenge(account.email, PASSWORD)
      for (let i = 0; i < guesses; i++) {
        await expectError(
          await verifyMfa({ mfa_token: token, method: 'totp', code: wrong }),
          401,
          'invalid_mfa_code'
        )
      }
      if (guesses === 2) {
        const res = await verifyMfa({ mfa_token: token, method: 'totp', code: right })
        await expectError(res, 429, 'too_many_requests')
        expect(Number(res.headers.get('Retry-After'))).toBeGreaterThan(0)
      }
    }
    // The right code was never checked: after the window it still works once.
    advanceClock(15 * 60)
    const { mfa_token: token } = await loginForChallenge(account.email, PASSWORD)
    expect(
      (await verifyMfa({ mfa_token: token, method: 'totp', code: await totpAt(account.secret) }))
        .status
    ).toBe(200)
  })

  it("refuses another account's code on an mfa_token, and a code on another account's token", async () => {
    const alice = await enrolledAccount()
    const bob = await registerUser()
    const bobEnrolment = await enrolTotp(bob.accessToken)
    advanceClock(30)
    const aliceChallenge = await loginForChallenge(alice.email, PASSWORD)
    const bobCode = await totpAt(bobEnrolment.secret)
    const res = await verifyMfa({
      mfa_token: aliceChallenge.mfa_token,
      method: 'totp',
      code: bobCode,
    })
    await expectError(res, 401, 'invalid_mfa_code')
    // Bob's code is still unused for Bob.
    const bobChallenge = await loginForChallenge(bob.email, PASSWORD)
    const ok = await expectTokenResponse(
      await verifyMfa({ mfa_token: bobChallenge.mfa_token, method: 'totp', code: bobCode }),
      200
    )
    expect(ok.user.id).toBe(bob.userId)
  })

  it('starts no session when the password changed between the factors', async () => {
    const account = await enrolledAccount()
    const challenge = await loginForChallenge(account.email, PASSWORD)
    const change = await api('/auth/password', {
      token: account.accessToken,
      json: { current_password: PASSWORD, new_password: 'another password entirely' },
    })
    expect(change.status).toBe(204)
    const res = await verifyMfa({
      mfa_token: challenge.mfa_token,
      method: 'totp',
      code: await totpAt(account.secret),
    })
    await expectError(res, 401, 'invalid_mfa_token')
  })

  it('keeps a second factor set up after the address was verified through a password reset', async () => {
    const account = await registerUser()
    expect((await verifyEmail(await verificationTokenFor(account.email))).status).toBe(200)
    advanceClock(1)
    await enrolTotp(account.accessToken)
    advanceClock(30)
    await forgot(account.email)
    expect(
      (await resetPassword(await resetTokenFor(account.email), 'a brand new password')).status
    ).toBe(204)
    const challenge = await loginForChallenge(account.email, 'a brand new password')
    expect(challenge.methods).toEqual(['totp', 'recovery_code'])
  })

  it('drops a second factor set up before the address was verified, at the reset by its owner', async () => {
    const account = await enrolledAccount()
    await forgot(account.email)
    expect(
      (await resetPassword(await resetTokenFor(account.email), 'a brand new password')).status
    ).toBe(204)
    expect(
      (
        await api('/auth/login', {
          json: { email: account.email, password: 'a brand new password' },
        })
      ).status
    ).toBe(200)
    for (const table of ['totp_credentials', 'recovery_codes']) {
      expect(
        await countRows(`SELECT count(*) AS n FROM ${table} WHERE user_id = ?1`, account.userId)
      ).toBe(0)
    }
  })
})

describe('recovery codes', () => {
  it('sign in once each, with amr ["pwd","otp"], in any case and grouping', async () => {
    const account = await enrolledAccount()
    const [code] = account.recoveryCodes
    const first = await loginForChallenge(account.email, PASSWORD)
    const res = await verifyMfa({
      mfa_token: first.mfa_token,
      method: 'recovery_code',
      code: code.toUpperCase().replace(/-/g, ' '),
    })
    const body = await expectTokenResponse(res, 200)
    expect(decodeJwt(body.access_token).payload.amr).toEqual(['pwd', 'otp'])
    const again = await loginForChallenge(account.email, PASSWORD)
    await expectError(
      await verifyMfa({ mfa_token: again.mfa_token, method: 'recovery_code', code }),
      401,
      'invalid_mfa_code'
    )
  })

  it("refuse another account's recovery code", async () => {
    const alice = await enrolledAccount()
    const bob = await enrolledAccount()
    const challenge = await loginForChallenge(alice.email, PASSWORD)
    await expectError(
      await verifyMfa({
        mfa_token: challenge.mfa_token,
        method: 'recovery_code',
        code: bob.recoveryCodes[0],
      }),
      401,
      'invalid_mfa_code'
    )
  })

  it('let exactly one of two racing sign-ins with one code win', async () => {
    const account = await enrolledAccount()
    const [a, b] = [
      await loginForChallenge(account.email, PASSWORD),
      await loginForChallenge(account.email, PASSWORD),
    ]
    const barrier = Barrier.releasedWhenFull(2)
    const db = d1PausingAfter(env.DB, /mfa_challenges/, () => barrier.arrive())
    const verify = (token: string) =>
      apiWithEnv({ DB: db }, '/auth/mfa/verify', {
        json: { mfa_token: token, method: 'recovery_code', code: account.recoveryCodes[3] },
      })
    const answers = await Promise.all([verify(a.mfa_token), verify(b.mfa_token)])
    expect(answers.map((res) => res.status).sort()).toEqual([200, 401])
  })

  it('are replaced by a new set: the old ones die', async () => {
    const account = await enrolledAccount()
    const res = await api('/auth/mfa/recovery-codes', {
      method: 'POST',
      token: await provenWithTotp(account),
    })
    expect(res.status).toBe(200)
    const { recovery_codes: fresh } = await res.json<{ recovery_codes: string[] }>()
    expect(fresh).toHaveLength(10)
    const old = await loginForChallenge(account.email, PASSWORD)
    await expectError(
      await verifyMfa({
        mfa_token: old.mfa_token,
        method: 'recovery_code',
        code: account.recoveryCodes[0],
      }),
      401,
      'invalid_mfa_code'
    )
    expect(
      (await verifyMfa({ mfa_token: old.mfa_token, method: 'recovery_code', code: fresh[0] }))
        .status
    ).toBe(200)
  })

  it('cannot be renewed without TOTP on (404)', async () => {
    const account = await registerUser()
    await expectError(
      await api('/auth/mfa/recovery-codes', { method: 'POST', token: account.accessToken }),
      404,
      'not_found'
    )
  })
})

describe('turning TOTP off', () => {
  it('needs a code: a stolen access token alone does not do it, and guesses are counted', async () => {
    const account = await enrolledAccount()
    // Even one of a sign-in with the code, minutes ago.
    const token = await provenWithTotp(account)
    await expectError(
      await api('/auth/mfa/totp', { method: 'DELETE', token, json: {} }),
      400,
      'validation_failed'
    )
    const right = await totpAt(account.secret)
    const wrong = right === '123456' ? '654321' : '123456'
    for (let i = 0; i < 10; i++) {
      await expectError(
        await api('/auth/mfa/totp', {
          method: 'DELETE',
          token,
          json: { code: wrong },
        }),
        401,
        'invalid_mfa_code'
      )
    }
    await expectError(
      await api('/auth/mfa/totp', {
        method: 'DELETE',
        token,
        json: { code: right },
      }),
      429,
      'too_many_requests'
    )
    expect(
      await countRows(
        'SELECT count(*) AS n FROM totp_credentials WHERE user_id = ?1',
        account.userId
      )
    ).toBe(1)
  })

  it('with a code: 204, the recovery codes die, login asks for no code', async () => {
    const account = await enrolledAccount()
    const token = await provenWithTotp(account)
    const res = await api('/auth/mfa/totp', {
      method: 'DELETE',
      token,
      json: { code: await totpAt(account.secret) },
    })
    expect(res.status).toBe(204)
    expect(
      await countRows('SELECT count(*) AS n FROM recovery_codes WHERE user_id = ?1', account.userId)
    ).toBe(0)
    expect(
      await countRows(
        'SELECT count(*) AS n FROM totp_credentials WHERE user_id = ?1',
        account.userId
      )
    ).toBe(0)
    const me = await (
      await api('/me', { token: account.accessToken })
    ).json<{ user: { mfa: unknown } }>()
    expect(me.user.mfa).toEqual({ totp: false, passkeys: 0 })
    expect(
      (await api('/auth/login', { json: { email: account.email, password: PASSWORD } })).status
    ).toBe(200)
    await expectError(
      await api('/auth/mfa/totp', {
        method: 'DELETE',
        token,
        json: { code: '123456' },
      }),
      404,
      'not_found'
    )
  })

  it('with a recovery code too', async () => {
    const account = await enrolledAccount()
    const res = await api('/auth/mfa/totp', {
      method: 'DELETE',
      token: await provenWithTotp(account),
      json: { code: account.recoveryCodes[9] },
    })
    expect(res.status).toBe(204)
  })

  it('goes with the account', async () => {
    const account = await enrolledAccount()
    expect(
      (
        await api('/me', {
          method: 'DELETE',
          token: account.accessToken,
          json: { password: PASSWORD },
        })
      ).status
    ).toBe(204)
    for (const table of ['totp_credentials', 'recovery_codes']) {
      expect(
        await countRows(`SELECT count(*) AS n FROM ${table} WHERE user_id = ?1`, account.userId)
      ).toBe(0)
    }
  })
})

describe('fresh sign-in and re-authentication', () => {
  const FRESH_ROUTES: [string, string, unknown][] = [
    ['POST', '/auth/mfa/totp', undefined],
    ['POST', '/auth/mfa/totp/confirm', { code: '123456' }],
    ['DELETE', '/auth/mfa/totp', { code: '123456' }],
    ['POST', '/auth/mfa/recovery-codes', undefined],
  ]

  it('every route that changes a second factor refuses an auth_time older than 10 minutes', async () => {
    const account = await registerUser()
    advanceClock(601)
    for (const [method, path, json] of FRESH_ROUTES) {
      const res = await api(path, { method, token: account.accessToken, json })
      await expectError(res, 401, 'reauthentication_required')
      expect(res.headers.get('WWW-Authenticate')).toBe(
        'Bearer error="insufficient_user_authentication", max_age="600"'
      )
    }
  })

  it('a stale auth_time forged with the secret does not pass either (the claim is what counts)', async () => {
    const account = await registerUser()
    const { forgeToken, accessClaims } = await import('./helpers/tokens')
    const stale = await forgeToken(
      { alg: 'HS256', typ: 'JWT' },
      accessClaims(account, { auth_time: Math.floor(Date.now() / 1000) - 601 })
    )
    for (const [method, path, json] of FRESH_ROUTES) {
      await expectError(
        await api(path, { method, token: stale, json }),
        401,
        'reauthentication_required'
      )
    }
  })

  it('with the password: the same session, a new auth_time, amr ["pwd"]; the old refresh token dies', async () => {
    const account = await registerUser()
    advanceClock(700)
    const res = await api('/auth/reauthenticate', {
      token: account.accessToken,
      json: { password: PASSWORD },
    })
    const body = await expectTokenResponse(res, 200)
    const claims = decodeJwt(body.access_token).payload
    expect(claims.sid).toBe(sessionIdOf(account.accessToken))
    expect(claims.auth_time).toBe(Math.floor(Date.now() / 1000))
    expect(claims.amr).toEqual(['pwd'])
    expect((await api('/auth/mfa/totp', { method: 'POST', token: body.access_token })).status).toBe(
      200
    )
    await expectError(await refresh(account.refreshToken), 401, 'invalid_refresh_token')
    advanceClock(60)
    const refreshed = await (await refresh(body.refresh_token)).json<{ access_token: string }>()
    expect(decodeJwt(refreshed.access_token).payload.auth_time).toBe(claims.auth_time)
  })

  it('with a TOTP code: amr ["otp"]; wrong answers are 403 / 401 and counted', async () => {
    const account = await enrolledAccount()
    await expectError(
      await api('/auth/reauthenticate', {
        token: account.accessToken,
        json: { password: 'not the password' },
      }),
      403,
      'invalid_credentials'
    )
    const right = await totpAt(account.secret)
    const wrong = right === '123456' ? '654321' : '123456'
    await expectError(
      await api('/auth/reauthenticate', {
        token: account.accessToken,
        json: { method: 'totp', code: wrong },
      }),
      401,
      'invalid_mfa_code'
    )
    await expectError(
      await api('/auth/reauthenticate', { token: account.accessToken, json: {} }),
      400,
      'validation_failed'
    )
    const res = await api('/auth/reauthenticate', {
      token: account.accessToken,
      json: { method: 'totp', code: right },
    })
    const body = await expectTokenResponse(res, 200)
    expect(decodeJwt(body.access_token).payload.amr).toEqual(['otp'])
    expect(
      await countRows('SELECT failures AS n FROM login_failures WHERE email = ?1', account.email)
    ).toBe(2)
  })
})

describe('security events', () => {
  const storedTypes = async (userId: string) =>
    (
      await env.DB.prepare(
        'SELECT type, method FROM security_events WHERE user_id = ?1 ORDER BY id'
      )
        .bind(userId)
        .all<{ type: string; method: string | null }>()
    ).results

  it('records mfa_enabled, mfa_failed, the login with its method, and mfa_disabled', async () => {
    const account = await registerUser()
    // Through app.fetch with the pool's env: each call resolves once its event is written.
    const send = (path: string, options: Parameters<typeof callApp>[2]) =>
      callApp(env, path, options)
    const { secret } = await (
      await send('/auth/mfa/totp', { method: 'POST', token: account.accessToken })
    ).json<{ secret: string }>()
    const code = await totpAt(secret)
    expect(
      (await send('/auth/mfa/totp/confirm', { token: account.accessToken, json: { code } })).status
    ).toBe(200)
    advanceClock(30)
    const right = await totpAt(secret)
    const wrong = right === '123456' ? '654321' : '123456'
    const challenge = await loginForChallenge(account.email, PASSWORD)
    const json = { mfa_token: challenge.mfa_token, method: 'totp', code: wrong }
    expect((await send('/auth/mfa/verify', { json })).status).toBe(401)
    const signedIn = await send('/auth/mfa/verify', { json: { ...json, code: right } })
    expect(signedIn.status).toBe(200)
    advanceClock(30)
    const off = await send('/auth/mfa/totp', {
      method: 'DELETE',
      token: (await signedIn.json<{ access_token: string }>()).access_token,
      json: { code: await totpAt(secret) },
    })
    expect(off.status).toBe(204)
    const types = (await storedTypes(account.userId)).filter(
      (event) => event.type !== 'login' || event.method !== 'pwd'
    )
    expect(types).toEqual([
      { type: 'mfa_enabled', method: 'totp' },
      { type: 'mfa_failed', method: 'totp' },
      { type: 'login', method: 'totp' },
      { type: 'mfa_disabled', method: 'totp' },
    ])
  })
})
