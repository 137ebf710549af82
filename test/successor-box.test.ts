/**
 * The grace window's successor box, attacked offline: someone holding a copy of D1 and an old
 * refresh token must not be able to read the live token from it, and the box must not outlast
 * the window.
 */
import { createExecutionContext, createScheduledController, env } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
// The one import of the box's derivation: repoint it here should the module move.
import { openSuccessor, sealSuccessor } from '../src/auth/refresh-token'
import worker from '../src/index'
import { registerUser } from './helpers/accounts'
import { pinClock, setClock } from './helpers/clock'
import { resetPassword, resetTokenFor } from './helpers/recovery'
import { apiWithEnv, expectError } from './helpers/requests'
import { expectSessionEnded, refresh, rotate, sessionIdOf } from './helpers/sessions'

const GRACE = Number(env.REFRESH_REUSE_GRACE)

const boxOf = async (sessionId: string): Promise<string | null> =>
  (
    await env.DB.prepare('SELECT successor_box FROM sessions WHERE id = ?1')
      .bind(sessionId)
      .first<{ successor_box: string | null }>()
  )?.successor_box ?? null

const fromBase64Url = (text: string): Uint8Array =>
  Uint8Array.from(atob(text.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0))

const text = (value: string): Uint8Array => new TextEncoder().encode(value)

/** The box's key scheme as the code is meant to use it: HKDF-SHA-256, AES-GCM, the sid as AAD. */
interface KeyGuess {
  keyMaterial: string
  salt: string
  info: string
}

const SEAL_CONTEXTS = ['refresh-successor-seal:v2', 'refresh-successor-seal:v1', '']

/** Opens a box with AES-GCM under an HKDF key built from a guess, with and without the sid as AAD. */
const openWithHkdf = async (
  box: string,
  sessionId: string,
  guess: KeyGuess
): Promise<string | null> => {
  const [ivText, sealedText] = box.split('.')
  const material = await crypto.subtle.importKey('raw', text(guess.keyMaterial), 'HKDF', false, [
    'deriveKey',
  ])
  const key = await crypto.subtle.deriveKey(
    { name: 'HKDF', hash: 'SHA-256', salt: text(guess.salt), info: text(guess.info) },
    material,
    { name: 'AES-GCM', length: 256 },
    false,
    ['decrypt']
  )
  for (const additionalData of [text(sessionId), undefined]) {
    try {
      const opened = await crypto.subtle.decrypt(
        {
          name: 'AES-GCM',
          iv: fromBase64Url(ivText ?? ''),
          ...(additionalData ? { additionalData } : {}),
        },
        key,
        fromBase64Url(sealedText ?? '')
      )
      return new TextDecoder().decode(opened)
    } catch {
      // not this key
    }
  }
  return null
}

/**
 * What an attacker holding a copy of D1 and the old refresh token can derive without the server
 * secret: HKDF keyed with nothing, with the token, with the session id or the issuer name, the
 * token as salt or not, under every context string the code has used.
 */
const guessesWithoutTheSecret = (oldToken: string, sessionId: string): KeyGuess[] =>
  ['', oldToken, sessionId, env.JWT_ISSUER].flatMap((keyMaterial) =>
    [oldToken, ''].flatMap((salt) => SEAL_CONTEXTS.map((info) => ({ keyMaterial, salt, info })))
  )

describe('the successor box', () => {
  it('cannot be opened with a copy of D1 and the old refresh token alone', async () => {
    const account = await registerUser()
    const sessionId = sessionIdOf(account.accessToken)
    const next = await rotate(account.refreshToken)
    const box = await boxOf(sessionId)
    expect(box).not.toBeNull()
    expect(box).not.toContain(next.refreshToken)

    for (const guess of guessesWithoutTheSecret(account.refreshToken, sessionId)) {
      expect(await openWithHkdf(box!, sessionId, guess), JSON.stringify(guess)).toBeNull()
    }
    // The code's own opener, handed every secret but the server's.
    for (const secret of ['', account.refreshToken, sessionId, env.JWT_ISSUER]) {
      expect(await openSuccessor(secret, sessionId, account.refreshToken, box!), secret).toBeNull()
    }

    // The attack above is aimed at the scheme in use: with the secret, the same code opens it.
    // Should the derivation change, this fails and the guesses must be brought up to date.
    const withSecret = {
      keyMaterial: env.JWT_SECRET,
      salt: account.refreshToken,
      info: SEAL_CONTEXTS[0],
    }
    expect(await openWithHkdf(box!, sessionId, withSecret)).toBe(next.refreshToken)
    expect(await openSuccessor(env.JWT_SECRET, sessionId, account.refreshToken, box!)).toBe(
      next.refreshToken
    )
  })

  it('is bound to its session: the same box under another session id opens to nothing', async () => {
    const sessionId = crypto.randomUUID()
    const rotated = 'A'.repeat(43)
    const box = await sealSuccessor(env.JWT_SECRET, sessionId, rotated, 'the-successor')
    expect(await openSuccessor(env.JWT_SECRET, sessionId, rotated, box)).toBe('the-successor')
    expect(await openSuccessor(env.JWT_SECRET, crypto.randomUUID(), rotated, box)).toBeNull()
    expect(await openSuccessor(env.JWT_SECRET, sessionId, 'B'.repeat(43), box)).toBeNull()
  })

  it('is keyed by the server secret: a replay inside the window under another JWT_SECRET ends the session', async () => {
    pinClock()
    const account = await registerUser()
    const next = await rotate(account.refreshToken)
    const rekeyed = { JWT_SECRET: 'another-secret-that-is-long-enough-9876543210' }

    const replay = await apiWithEnv(rekeyed, '/auth/refresh', {
      json: { refresh_token: account.refreshToken },
    })

    await expectError(replay, 401, 'invalid_refresh_token')
    await expectSessionEnded(next)
  })

  it('still hands the same successor to a racing duplicate inside the window', async () => {
    pinClock()
    const account = await registerUser()
    const first = await rotate(account.refreshToken)
    const second = await rotate(account.refreshToken)
    expect(second.refreshToken).toBe(first.refreshToken)
  })

  it('is cleared by the daily cron once the window has passed, and the session lives on', async () => {
    const start = pinClock()
    const account = await registerUser()
    const sessionId = sessionIdOf(account.accessToken)
    const next = await rotate(account.refreshToken)
    setClock(start + (GRACE + 1) * 1000)

    await worker.scheduled(createScheduledController(), env, createExecutionContext())

    expect(await boxOf(sessionId)).toBeNull()
    await rotate(next.refreshToken)
  })

  it('is cleared when a replay after the window ends the session', async () => {
    const start = pinClock()
    const account = await registerUser()
    const sessionId = sessionIdOf(account.accessToken)
    await rotate(account.refreshToken)
    setClock(start + (GRACE + 1) * 1000)

    expect((await refresh(account.refreshToken)).status).toBe(401)

    expect(await boxOf(sessionId)).toBeNull()
  })

  it('is cleared when a password reset ends the session inside the window', async () => {
    // Every way of ending a session drops the box: a reset is no exception, or a copy of D1 taken
    // after the reset would still hold the live token's seal of a session that has ended.
    pinClock()
    const account = await registerUser()
    const sessionId = sessionIdOf(account.accessToken)
    await rotate(account.refreshToken)
    expect(await boxOf(sessionId)).not.toBeNull()

    const res = await resetPassword(await resetTokenFor(account.email), 'a brand new password')
    expect(res.status).toBe(204)

    expect(await boxOf(sessionId)).toBeNull()
    expect((await refresh(account.refreshToken)).status).toBe(401)
  })
})
