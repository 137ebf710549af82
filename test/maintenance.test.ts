/** The daily cron: ended and expired sessions and old login-failure counters are pruned, nothing else. */
import { createExecutionContext, createScheduledController, env } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import worker from '../src/index'
import { registerUser, uniqueEmail } from './helpers/accounts'
import { pinClock, setClock } from './helpers/clock'
import { verificationTokenFor, verifyEmail } from './helpers/recovery'
import { api } from './helpers/requests'
import { refresh } from './helpers/sessions'

const runCron = async () => {
  await worker.scheduled(createScheduledController(), env, createExecutionContext())
}

const sessionCount = async (userId: string): Promise<number> => {
  const row = await env.DB.prepare('SELECT COUNT(*) AS n FROM sessions WHERE user_id = ?1')
    .bind(userId)
    .first<{ n: number }>()
  return row?.n ?? 0
}

const failureRow = (email: string) =>
  env.DB.prepare('SELECT failures FROM login_failures WHERE email = ?1').bind(email).first()

describe('scheduled pruning', () => {
  it('keeps live sessions and a fresh failure counter', async () => {
    const account = await registerUser()
    const email = uniqueEmail()
    await api('/auth/login', { json: { email, password: 'not a real account' } })

    await runCron()

    expect(await sessionCount(account.userId)).toBe(1)
    expect(await failureRow(email)).not.toBeNull()
    expect((await refresh(account.refreshToken)).status).toBe(200)
  })

  it('prunes a session ended more than a day ago, and only that one', async () => {
    const start = pinClock()
    const account = await registerUser()
    const other = await api('/auth/login', {
      json: { email: account.email, password: account.password },
    })
    expect(other.status).toBe(200)
    const logout = await api('/auth/logout', { method: 'POST', token: account.accessToken })
    expect(logout.status).toBe(204)

    setClock(start + 86_400_000 - 60_000)
    await runCron()
    expect(await sessionCount(account.userId)).toBe(2)

    setClock(start + 86_400_000 + 60_000)
    await runCron()
    expect(await sessionCount(account.userId)).toBe(1)
    const { refresh_token: otherRefresh } = (await other.json()) as { refresh_token: string }
    expect((await refresh(otherRefresh)).status).toBe(200)
  })

  it('prunes expired sessions and failure counters whose window has passed', async () => {
    const start = pinClock()
    const account = await registerUser()
    const email = uniqueEmail()
    await api('/auth/login', { json: { email, password: 'not a real account' } })

    setClock(start + 16 * 60_000)
    await runCron()
    expect(await failureRow(email)).toBeNull()
    expect(await sessionCount(account.userId)).toBe(1)

    setClock(start + (account.tokens.refresh_expires_in + 1) * 1000)
    await runCron()
    expect(await sessionCount(account.userId)).toBe(0)
  })

  it('keeps a verification link that outlives the mail-counting window until it expires', async () => {
    const start = pinClock()
    const account = await registerUser()
    const token = await verificationTokenFor(account.email)

    // Past the 30-minute window the tokens count toward, well inside the link's 24 hours.
    setClock(start + 31 * 60_000)
    await runCron()

    expect((await verifyEmail(token)).status).toBe(200)
  })

  it('prunes expired second-factor challenges and keeps a live one', async () => {
    const now = Math.floor(pinClock() / 1000)
    const account = await registerUser()
    const challenge = (id: string, expiresAt: number) =>
      env.DB.prepare(
        `INSERT INTO mfa_challenges (id, user_id, amr, credential_version, created_at, expires_at)
         VALUES (?1, ?2, '["pwd"]', 0, ?3, ?4)`
      )
        .bind(id, account.userId, now - 600, expiresAt)
        .run()
    await challenge(`gone-${crypto.randomUUID()}`, now)
    await challenge(`live-${crypto.randomUUID()}`, now + 300)

    await runCron()

    const left = await env.DB.prepare('SELECT id FROM mfa_challenges WHERE user_id = ?1')
      .bind(account.userId)
      .all<{ id: string }>()
    expect(left.results.map((row) => row.id)).toEqual([expect.stringMatching(/^live-/)])
  })

  it('DELETE /me also removes the failed-login counter kept under the email', async () => {
    const account = await registerUser()
    await api('/auth/login', { json: { email: account.email, password: 'a wrong guess!' } })
    expect(await failureRow(account.email)).not.toBeNull()

    const res = await api('/me', {
      method: 'DELETE',
      token: account.accessToken,
      json: { password: account.password },
    })
    expect(res.status).toBe(204)
    expect(await failureRow(account.email)).toBeNull()
  })
})
