/** Races on one account: the database, not the order of arrival, decides who wins. */
import { env } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { uniqueEmail } from './helpers/accounts'
import { api } from './helpers/requests'

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
})
