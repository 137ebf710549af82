/**
 * Delivery behind MAIL_TRANSPORT: the HTTP mail API (against a local stand-in of the API, the
 * Worker's outbound fetch intercepted here), Cloudflare's send_email binding (wrangler's local
 * simulation, which parses the MIME it is given), the outbox and GET /dev/outbox.
 */
import { env } from 'cloudflare:test'
import { describe, expect, it, vi } from 'vitest'
import { registerUser, uniqueEmail } from './helpers/accounts'
import { APP_URL, OUTBOX_ENV, linkToken, messagesTo, verifyEmail } from './helpers/recovery'
import { api, apiWithEnv, expectError } from './helpers/requests'
import { d1FailingOn } from './helpers/storage-faults'

/** A deployment's APP_URL, where the outbox must never run. */
const DEPLOYED_APP_URL = 'https://app.example.test'
const MAIL_API_URL = 'https://mail-api.example.test/emails'
const MAIL_API_KEY = 're_test_key_0123456789'
const HTTP_ENV = {
  MAIL_TRANSPORT: 'http',
  MAIL_API_URL,
  MAIL_API_KEY,
  MAIL_FROM: 'Edge Auth <auth@example.test>',
  APP_URL,
}

interface SentByApi {
  from: string
  to: string[]
  subject: string
  text: string
  html: string
}

/**
 * A stand-in for a Resend-shaped mail API: checks the key and the JSON it is sent, keeps what it
 * accepted, and answers `status` (200 with an id by default).
 */
const standInMailApi = (status = 200) => {
  const accepted: SentByApi[] = []
  const realFetch = globalThis.fetch
  vi.spyOn(globalThis, 'fetch').mockImplementation(async (input, init) => {
    const request = new Request(input, init)
    if (request.url !== MAIL_API_URL) return realFetch(input, init)
    if (request.headers.get('Authorization') !== `Bearer ${MAIL_API_KEY}`) {
      return Response.json({ message: 'bad key' }, { status: 401 })
    }
    if (request.method !== 'POST' || request.headers.get('Content-Type') !== 'application/json') {
      return Response.json({ message: 'bad request' }, { status: 400 })
    }
    const body = (await request.json()) as SentByApi
    if (status !== 200) return Response.json({ message: 'provider trouble' }, { status })
    accepted.push(body)
    return Response.json({ id: crypto.randomUUID() })
  })
  return accepted
}

const logLines = (spy: { mock: { calls: unknown[][] } }): string[] =>
  spy.mock.calls.map((call) => call.map(String).join(' '))

describe('MAIL_TRANSPORT=http', () => {
  it('posts the message to the mail API with the key as a bearer token', async () => {
    const accepted = standInMailApi()
    const account = await registerUser()

    const res = await apiWithEnv(HTTP_ENV, '/auth/password/forgot', {
      json: { email: account.email },
    })

    expect(res.status).toBe(202)
    expect(accepted).toHaveLength(1)
    const [sent] = accepted
    expect(sent.from).toBe('Edge Auth <auth@example.test>')
    expect(sent.to).toEqual([account.email])
    expect(sent.subject).toBe('Reset your password')
    expect(sent.text).toMatch(new RegExp(`${APP_URL}/#reset=[A-Za-z0-9_-]{43}`))
    expect(sent.html).toMatch(new RegExp(`href="${APP_URL}/#reset=[A-Za-z0-9_-]{43}"`))
    expect(await messagesTo(account.email)).toEqual([])
  })

  it('keeps the 202 when the mail API fails, and logs the failure without token, address or key', async () => {
    standInMailApi(500)
    const errors = vi.spyOn(console, 'error')
    const account = await registerUser()

    const res = await apiWithEnv(HTTP_ENV, '/auth/email/verification', {
      json: { email: account.email },
    })

    expect(res.status).toBe(202)
    expect(await res.json()).toEqual({ status: 'accepted' })
    const lines = logLines(errors).filter((line) => line.includes('account message not delivered'))
    expect(lines).toHaveLength(1)
    expect(JSON.parse(lines[0])).toMatchObject({
      level: 'error',
      purpose: 'email_verification',
      transport: 'http',
      cause: 'MailDeliveryFailed: the mail API answered 500',
    })
    expect(lines[0]).not.toContain(account.email)
    expect(lines[0]).not.toContain(MAIL_API_KEY)
    expect(lines[0]).not.toMatch(/[A-Za-z0-9_-]{43}/)
  })

  it('keeps the 202 when the mail API cannot be reached at all', async () => {
    vi.spyOn(globalThis, 'fetch').mockRejectedValue(new TypeError('network connection lost'))
    const errors = vi.spyOn(console, 'error')
    const account = await registerUser()

    const res = await apiWithEnv(HTTP_ENV, '/auth/password/forgot', {
      json: { email: account.email },
    })

    expect(res.status).toBe(202)
    expect(logLines(errors).some((line) => line.includes('account message not delivered'))).toBe(
      true
    )
  })

  it('is 500 server_misconfigured for every address when MAIL_API_KEY is missing', async () => {
    const account = await registerUser()
    for (const email of [account.email, uniqueEmail()]) {
      const res = await apiWithEnv(
        { ...HTTP_ENV, MAIL_API_KEY: undefined },
        '/auth/password/forgot',
        {
          json: { email },
        }
      )
      await expectError(res, 500, 'server_misconfigured')
    }
  })
})

describe('MAIL_TRANSPORT=cloudflare', () => {
  /** The real local send_email binding, with each message it was handed and how it answered. */
  const recordingBinding = () => {
    const outcomes: { from: string; to: string; result: 'sent' | 'refused' }[] = []
    const binding = {
      async send(message: EmailMessage) {
        try {
          const result = await env.EMAIL.send(message)
          outcomes.push({ from: message.from, to: message.to, result: 'sent' })
          return result
        } catch (error) {
          outcomes.push({ from: message.from, to: message.to, result: 'refused' })
          throw error
        }
      },
    }
    return { binding, outcomes }
  }

  it("hands a MIME message to the send_email binding, which wrangler's simulation accepts", async () => {
    const { binding, outcomes } = recordingBinding()
    const logs = vi.spyOn(console, 'log')
    const account = await registerUser()

    const res = await apiWithEnv(
      {
        MAIL_TRANSPORT: 'cloudflare',
        MAIL_FROM: 'Edge Auth <auth@example.test>',
        APP_URL,
        EMAIL: binding as unknown as SendEmail,
      },
      '/auth/password/forgot',
      { json: { email: account.email } }
    )

    expect(res.status).toBe(202)
    // The simulation parses the raw message and refuses one without a Message-ID or whose From
    // differs from the envelope sender: "sent" means the MIME was well formed.
    expect(outcomes).toEqual([{ from: 'auth@example.test', to: account.email, result: 'sent' }])
    expect(
      logLines(logs).some(
        (line) => line.includes('account message sent') && line.includes('"transport":"cloudflare"')
      )
    ).toBe(true)
  })

  it('is 500 server_misconfigured without MAIL_FROM', async () => {
    const res = await apiWithEnv(
      { MAIL_TRANSPORT: 'cloudflare', APP_URL, MAIL_FROM: '' },
      '/auth/password/forgot',
      { json: { email: uniqueEmail() } }
    )
    await expectError(res, 500, 'server_misconfigured')
  })
})

describe('MAIL_TRANSPORT=outbox', () => {
  it('is 500 server_misconfigured unless APP_URL is a loopback host, and stores nothing', async () => {
    const account = await registerUser()
    const deployed = { ...OUTBOX_ENV, APP_URL: DEPLOYED_APP_URL }
    for (const path of ['/auth/password/forgot', '/auth/email/verification']) {
      const res = await apiWithEnv(deployed, path, { json: { email: account.email } })
      await expectError(res, 500, 'server_misconfigured')
    }
    expect(await messagesTo(account.email)).toEqual([])
    const tokens = await env.DB.prepare(
      'SELECT COUNT(*) AS n FROM one_time_tokens WHERE user_id = ?1'
    )
      .bind(account.userId)
      .first()
    expect(tokens).toEqual({ n: 0 })
  })

  it('runs on every loopback host', async () => {
    for (const appUrl of ['http://localhost:8787', 'http://127.0.0.1:8787', 'http://[::1]:8787']) {
      const account = await registerUser()
      const res = await apiWithEnv({ ...OUTBOX_ENV, APP_URL: appUrl }, '/auth/password/forgot', {
        json: { email: account.email },
      })
      expect(res.status).toBe(202)
      const [message] = await messagesTo(account.email)
      expect(message.text).toContain(`${appUrl}/#reset=`)
    }
  })
})

describe('MAIL_TRANSPORT=outbox with a failing outbox table', () => {
  it('keeps the 202 and logs the message as not delivered, never as sent', async () => {
    const account = await registerUser()
    const errors = vi.spyOn(console, 'error')
    const infos = vi.spyOn(console, 'log')
    const db = d1FailingOn(env.DB, /INSERT INTO dev_outbox/)

    const res = await apiWithEnv({ ...OUTBOX_ENV, DB: db }, '/auth/password/forgot', {
      json: { email: account.email },
    })

    expect(res.status).toBe(202)
    expect(await messagesTo(account.email)).toEqual([])
    const failed = logLines(errors).filter((line) => line.includes('account message not delivered'))
    expect(failed).toHaveLength(1)
    expect(JSON.parse(failed[0])).toMatchObject({ level: 'error', transport: 'outbox' })
    expect(logLines(infos).filter((line) => line.includes('account message sent'))).toEqual([])
  })
})

/** What a browser on the developer's machine sends to `wrangler dev`. */
const LOOPBACK_HOST = { Host: 'localhost:8787' }

describe('GET /dev/outbox', () => {
  it('does not exist under the deployed configuration: 404 for GET and for any other method', async () => {
    await expectError(await api('/dev/outbox'), 404, 'not_found')
    await expectError(await api('/dev/outbox', { method: 'POST', json: {} }), 404, 'not_found')
    await expectError(
      await apiWithEnv({ MAIL_TRANSPORT: 'outbox', APP_URL }, '/dev/outbox'),
      404,
      'not_found'
    )
  })

  it('does not exist with DEV_OUTBOX=on unless MAIL_TRANSPORT=outbox on a loopback APP_URL', async () => {
    const configurations = [
      { DEV_OUTBOX: 'on' },
      { ...HTTP_ENV, DEV_OUTBOX: 'on' },
      { ...OUTBOX_ENV, APP_URL: DEPLOYED_APP_URL },
    ]
    for (const configuration of configurations) {
      for (const method of ['GET', 'POST', 'DELETE']) {
        await expectError(
          await apiWithEnv(configuration, '/dev/outbox', { method }),
          404,
          'not_found'
        )
      }
    }
  })

  it('lists the outbox newest first with DEV_OUTBOX=on, each message as {to, subject, text, created_at}', async () => {
    const account = await registerUser()
    await apiWithEnv(OUTBOX_ENV, '/auth/email/verification', { json: { email: account.email } })
    await apiWithEnv(OUTBOX_ENV, '/auth/password/forgot', { json: { email: account.email } })

    const res = await apiWithEnv(OUTBOX_ENV, '/dev/outbox', { headers: LOOPBACK_HOST })

    expect(res.status).toBe(200)
    const { messages } = (await res.json()) as {
      messages: { to: string; subject: string; text: string; created_at: string }[]
    }
    const mine = messages.filter((message) => message.to === account.email)
    expect(mine.map((message) => message.subject)).toEqual([
      'Reset your password',
      'Confirm your email address',
    ])
    for (const message of mine) {
      expect(Object.keys(message).sort()).toEqual(['created_at', 'subject', 'text', 'to'])
      expect(new Date(message.created_at).toISOString()).toBe(message.created_at)
    }
    const verifyToken = linkToken(mine[1], 'verify')
    expect((await verifyEmail(verifyToken)).status).toBe(200)
  })

  it('answers only a loopback Host: a page rebound to 127.0.0.1 (DNS rebinding) gets 404', async () => {
    const account = await registerUser()
    await apiWithEnv(OUTBOX_ENV, '/auth/password/forgot', { json: { email: account.email } })
    const foreign = [
      'attacker.example:8787',
      'attacker.example',
      'localhost.attacker.example',
      '127.0.0.1.nip.io:8787',
      'localhost:8787.attacker.example',
      '[::1].attacker.example',
      '',
    ]
    for (const host of foreign) {
      const res = await apiWithEnv(OUTBOX_ENV, '/dev/outbox', { headers: { Host: host } })
      const body = await expectError(res, 404, 'not_found')
      expect(JSON.stringify(body), host).not.toContain(account.email)
    }
    for (const host of ['localhost', 'localhost:8787', '127.0.0.1:8787', '[::1]:8787']) {
      const res = await apiWithEnv(OUTBOX_ENV, '/dev/outbox', { headers: { Host: host } })
      expect(res.status, host).toBe(200)
    }
  })

  it('is refused as misconfiguration for an unknown MAIL_TRANSPORT', async () => {
    const res = await apiWithEnv({ MAIL_TRANSPORT: 'smtp', APP_URL }, '/auth/password/forgot', {
      json: { email: uniqueEmail() },
    })
    await expectError(res, 500, 'server_misconfigured')
  })
})
