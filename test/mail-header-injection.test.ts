/**
 * Mail header injection: an address goes into the `To:` header as it is, so `x,y@example.com`
 * would be two recipients and `<`, `>`, quotes, brackets or whitespace another mailbox or a
 * header. Every route that accepts an address for mail refuses them (400 validation_failed);
 * login answers them as it answers an unknown email; the MIME builder refuses them last.
 */
import { env } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { buildMimeMessage } from '../src/mail/mime'
import { PASSWORD, registerUser } from './helpers/accounts'
import { mailApi, messagesTo } from './helpers/recovery'
import { expectError } from './helpers/requests'

/** Each would pass for name@example.com by shape alone. */
const UNSAFE = [
  'victim@example.com,attacker@example.net',
  'victim@example.com;attacker@example.net',
  'victim@example.com>attacker@example.net',
  '<victim@example.com',
  '"victim"@example.com',
  'victim\u00a0x@example.com',
  'vic(tim)@example.com',
  'vic[tim]@example.com',
  'vic:tim@example.com',
  'vic\\tim@example.com',
  'vic\u2028tim@example.com',
]

const ROUTES = ['/auth/register', '/auth/password/forgot', '/auth/email/verification']

const bodyFor = (path: string, email: string) =>
  path === '/auth/register' ? { email, password: PASSWORD } : { email }

describe('an address that is not one plain mailbox', () => {
  it.each(ROUTES)(
    'is 400 validation_failed at %s, and nothing is mailed or stored',
    async (path) => {
      for (const email of UNSAFE) {
        const res = await mailApi(path, { json: bodyFor(path, email) })
        const body = await expectError(res, 400, 'validation_failed')
        expect(body.details, email).toEqual({ email: expect.any(String) })
        expect(await messagesTo(email.toLowerCase()), email).toEqual([])
        for (const part of email.split(/[,;>]/)) expect(await messagesTo(part), email).toEqual([])
      }
      const users = await env.DB.prepare(
        `SELECT COUNT(*) AS n FROM users WHERE email GLOB '*[,;<>"()[]:\\\\ ]*'`
      ).first<{ n: number }>()
      expect(users?.n).toBe(0)
    }
  )

  it('is answered at login as an unknown email: 401 invalid_credentials', async () => {
    for (const email of [...UNSAFE, 'victim x@example.com', 'victim\u0000@example.com']) {
      await expectError(
        await mailApi('/auth/login', { json: { email, password: PASSWORD } }),
        401,
        'invalid_credentials'
      )
    }
  })

  it('signs no one in at login, even an account stored with such an address before the rule', async () => {
    const account = await registerUser()
    const stored = `victim,${account.email}`
    await env.DB.prepare('UPDATE users SET email = ?1 WHERE id = ?2')
      .bind(stored, account.userId)
      .run()
    await expectError(
      await mailApi('/auth/login', { json: { email: stored, password: PASSWORD } }),
      401,
      'invalid_credentials'
    )
  })

  it('a plain address with the characters RFC 5322 allows unquoted still works', async () => {
    const email = `o'brien+tag.x_y-z!#$%&*/=?^{|}~${Date.now()}@mail.example.com`
    const res = await mailApi('/auth/register', { json: { email, password: PASSWORD } })
    expect(res.status, await res.clone().text()).toBe(201)
    expect((await messagesTo(email)).length).toBe(1)
  })

  it('is refused by the MIME builder itself, the last step before the header is written', () => {
    const message = { subject: 's', text: 't', html: '<p>t</p>' }
    const from = { address: 'auth@example.com' }
    for (const to of [...UNSAFE, 'a@example.com\r\nBcc: attacker@example.net']) {
      expect(() => buildMimeMessage({ ...message, to }, { from }), to).toThrow(/recipient/)
    }
    expect(buildMimeMessage({ ...message, to: 'a@example.com' }, { from })).toContain(
      'To: a@example.com\r\n'
    )
  })
})
