/**
 * The grace window's successor box, attacked offline: someone holding a copy of D1 and an old
 * refresh token must not be able to read the live token from it, and the box must not outlast
 * the window.
 */
import { createExecutionContext, createScheduledController, env } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import worker from '../src/index'
import { registerUser } from './helpers/accounts'
import { pinClock, setClock } from './helpers/clock'
import { refresh, rotate, sessionIdOf } from './helpers/sessions'

const GRACE = Number(env.REFRESH_REUSE_GRACE)

const boxOf = async (sessionId: string): Promise<string | null> =>
  (
    await env.DB.prepare('SELECT successor_box FROM sessions WHERE id = ?1')
      .bind(sessionId)
      .first<{ successor_box: string | null }>()
  )?.successor_box ?? null

const fromBase64Url = (text: string): Uint8Array =>
  Uint8Array.from(atob(text.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0))

/**
 * What an attacker can derive from the source code and the old token alone: every key that is
 * a hash of the old token with public context, tried with AES-GCM, with and without the session
 * id as associated data. Returns whatever plaintext one of them opens.
 */
const openWithoutTheSecret = async (
  box: string,
  oldToken: string,
  sessionId: string
): Promise<string | null> => {
  const [ivText, sealedText] = box.split('.')
  const iv = fromBase64Url(ivText ?? '')
  const sealed = fromBase64Url(sealedText ?? '')
  const contexts = ['refresh-successor-seal:v1:', 'refresh-successor-seal:v2:', '']
  for (const context of contexts) {
    const material = await crypto.subtle.digest(
      'SHA-256',
      new TextEncoder().encode(context + oldToken)
    )
    const key = await crypto.subtle.importKey('raw', material, 'AES-GCM', false, ['decrypt'])
    for (const additionalData of [undefined, new TextEncoder().encode(sessionId)]) {
      try {
        const opened = await crypto.subtle.decrypt(
          { name: 'AES-GCM', iv, ...(additionalData ? { additionalData } : {}) },
          key,
          sealed
        )
        return new TextDecoder().decode(opened)
      } catch {
        // not this key
      }
    }
  }
  return null
}

describe('the successor box', () => {
  it('cannot be opened with a copy of D1 and the old refresh token alone', async () => {
    const account = await registerUser()
    const sessionId = sessionIdOf(account.accessToken)
    const next = await rotate(account.refreshToken)
    const box = await boxOf(sessionId)
    expect(box).not.toBeNull()

    const opened = await openWithoutTheSecret(box!, account.refreshToken, sessionId)

    expect(opened).toBeNull()
    expect(box).not.toContain(next.refreshToken)
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
})
