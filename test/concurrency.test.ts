/** Races on one account: the database, not the order of arrival, decides who wins. */
import { env } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { uniqueEmail } from './helpers/accounts'
import { api, apiWithEnv, expectError } from './helpers/requests'
import { Barrier, d1PausingAfterRead } from './helpers/storage-faults'

describe('concurrent registrations', () => {
  // Fifty password hashes on a shared machine take a while.
  it(
    'POST /auth/register answers 50 racing registrations of one email with one 201 and 49 409s',
    { timeout: 60_000 },
    async () => {
      const email = uniqueEmail()

      const responses = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          api('/auth/register', {
            json: { email: i % 2 ? email.toUpperCase() : email, password: `password number ${i}` },
          })
        )
      )

      const statuses = responses.map((res) => res.status)
      expect(statuses.filter((status) => status === 201)).toHaveLength(1)
      expect(statuses.filter((status) => status === 409)).toHaveLength(49)
      for (const res of responses.filter((r) => r.status === 409)) {
        expect(await res.json()).toEqual({ error: 'email_taken', message: expect.any(String) })
      }
      const winner = await responses
        .find((res) => res.status === 201)!
        .json<{ user: { id: string } }>()
      const users = await env.DB.prepare('SELECT id FROM users WHERE email = ?1').bind(email).all()
      expect(users.results).toEqual([{ id: winner.user.id }])
      const sessions = await env.DB.prepare('SELECT user_id FROM sessions WHERE user_id = ?1')
        .bind(winner.user.id)
        .all()
      expect(sessions.results).toHaveLength(1)
    }
  )

  // The burst above may run one request after another, and then the email check alone answers
  // every 409. Here both requests are held until both passed that check, so the UNIQUE index
  // has to decide, and its violation has to become email_taken.
  it('two registrations that both passed the email check: one 201, one 409 email_taken', async () => {
    const email = uniqueEmail()
    const bothChecked = Barrier.releasedWhenFull(2)
    const db = d1PausingAfterRead(env.DB, 'users', () => bothChecked.arrive())
    const register = (password: string) =>
      apiWithEnv({ DB: db }, '/auth/register', { json: { email, password } })

    const responses = await Promise.all([
      register('first of two passwords'),
      register('second of two'),
    ])

    expect(bothChecked.arrived).toBeGreaterThanOrEqual(2)
    const statuses = responses.map((res) => res.status).sort()
    expect(statuses).toEqual([201, 409])
    await expectError(
      responses.find((res) => res.status === 409)!,
      409,
      'email_taken'
    )
    const users = await env.DB.prepare('SELECT id FROM users WHERE email = ?1').bind(email).all()
    expect(users.results).toHaveLength(1)
  })
})
