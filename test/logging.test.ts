/**
 * Logs: one structured line per request that changes something or fails on the server's side (a
 * successful read is in the platform's invocation log; a client error writes none, its security
 * event excepted), and never a password, a token or the signing secret.
 */
import { env } from 'cloudflare:test'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { registerUser, uniqueEmail } from './helpers/accounts'
import type { TokenResponseBody } from './helpers/accounts'
import { api } from './helpers/requests'
import { FaultyStorage } from './helpers/storage-faults'

const PASSWORD = 'a password that must never be logged'
const WRONG_PASSWORD = 'a wrong password, not to be logged either'

interface RequestLine {
  msg: string
  request_id: string
  method: string
  route: string
  status: number
  duration_ms: number
}

let logged: string[] = []

/** Everything written to the console, each call's arguments joined into one string. */
const captureConsole = () => {
  logged = []
  const capture = (...args: unknown[]) => {
    logged.push(
      args
        .map((arg) => (typeof arg === 'string' ? arg : (JSON.stringify(arg) ?? String(arg))))
        .join(' ')
    )
  }
  for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) {
    vi.spyOn(console, method).mockImplementation(capture)
  }
}

const requestLines = (): RequestLine[] =>
  logged.flatMap((line) => {
    try {
      const parsed = JSON.parse(line)
      return parsed?.msg === 'request' ? [parsed as RequestLine] : []
    } catch {
      return []
    }
  })

const requestIdOf = (res: Response) => res.headers.get('X-Request-Id')!

describe('request logging', () => {
  beforeEach(captureConsole)

  it('logs register, login, refresh, a 503 and a logout once each, a failed login only as its security event, with no secret in any line', async () => {
    const email = uniqueEmail()
    const responses: Response[] = []
    const send = async (res: Promise<Response>) => {
      const awaited = await res
      responses.push(awaited)
      return awaited
    }

    const registered = await send(api('/auth/register', { json: { email, password: PASSWORD } }))
    const first = await registered.clone().json<TokenResponseBody>()
    const loggedIn = await send(api('/auth/login', { json: { email, password: PASSWORD } }))
    const second = await loggedIn.clone().json<TokenResponseBody>()
    const refreshed = await send(
      api('/auth/refresh', { json: { refresh_token: second.refresh_token } })
    )
    const third = await refreshed.clone().json<TokenResponseBody>()
    const failed = await send(api('/auth/login', { json: { email, password: WRONG_PASSWORD } }))
    const me = await send(api('/me', { token: third.access_token }))
    const outage = await send(
      new FaultyStorage({ failAt: 1 }).fetch('/auth/refresh', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ refresh_token: third.refresh_token }),
      })
    )
    const logout = await send(api('/auth/logout', { method: 'POST', token: third.access_token }))

    expect(responses.map((res) => res.status)).toEqual([201, 200, 200, 401, 200, 503, 204])
    expect([registered, loggedIn, refreshed, failed, me, outage, logout].map(requestIdOf)).toEqual(
      responses.map(requestIdOf)
    )
    const lines = requestLines()
    // Every write and the 503 have their line, under the id the client was given; the successful
    // GET /me and the 401 have none.
    const writesAndFailures = responses.filter((res) => res !== me && res !== failed)
    expect(lines.map((line) => line.request_id)).toEqual(writesAndFailures.map(requestIdOf))
    expect(lines.map((line) => [line.method, line.route, line.status])).toEqual([
      ['POST', '/auth/register', 201],
      ['POST', '/auth/login', 200],
      ['POST', '/auth/refresh', 200],
      ['POST', '/auth/refresh', 503],
      ['POST', '/auth/logout', 204],
    ])
    // The failed login of an existing account is a security event, and that is its only line.
    const events = logged.flatMap((line) => {
      const parsed = JSON.parse(line) as { msg: string; type?: string; request_id?: string }
      return parsed.msg === 'security event' ? [[parsed.type, parsed.request_id]] : []
    })
    expect(events).toEqual([
      ['login', requestIdOf(loggedIn)],
      ['login_failed', requestIdOf(failed)],
      ['session_revoked', requestIdOf(logout)],
    ])
    for (const line of lines) expect(line.duration_ms).toBeGreaterThanOrEqual(0)

    const secrets = [PASSWORD, WRONG_PASSWORD, env.JWT_SECRET]
    for (const tokens of [first, second, third]) {
      secrets.push(tokens.refresh_token, tokens.access_token, tokens.access_token.split('.')[2])
    }
    const everything = logged.join('\n')
    expect(logged.length).toBeGreaterThanOrEqual(lines.length)
    for (const secret of secrets) expect(everything).not.toContain(secret)
  })

  it('writes no line for a successful read, nor for a refused one', async () => {
    const account = await registerUser()
    logged.length = 0

    const reads = [
      await api('/health'),
      await api('/me', { token: account.accessToken }),
      await api('/notes', { token: account.accessToken }),
      await api('/health', { method: 'HEAD' }),
    ]
    const refused = await api('/me', { token: `${account.accessToken}x` })
    const missing = await api('/notes/does-not-exist', { token: account.accessToken })

    expect(reads.map((res) => res.status)).toEqual([200, 200, 200, 200])
    // Each read still carries its request id, for a client to quote against the platform's log.
    for (const res of reads) expect(requestIdOf(res)).toMatch(/^[0-9a-f-]{36}$/)
    expect([refused.status, missing.status]).toEqual([401, 404])
    expect(logged).toEqual([])
  })

  it('writes no line for any client error, a write included', async () => {
    const account = await registerUser()
    logged.length = 0

    const refused = [
      await api('/auth/login', { json: { email: uniqueEmail(), password: PASSWORD } }),
      await api('/auth/login', { body: 'not json', headers: { 'Content-Type': 'text/plain' } }),
      await api('/auth/refresh', { json: { refresh_token: 'x'.repeat(43) } }),
      await api('/notes', { token: account.accessToken, json: { title: '' } }),
      await api('/nowhere'),
      await api('/auth/login', { method: 'PUT' }),
      await api('/me', { method: 'DELETE', token: 'forged.token.here', json: { password: 'x' } }),
    ]

    expect(refused.map((res) => res.status)).toEqual([401, 415, 401, 400, 404, 405, 401])
    expect(logged).toEqual([])
  })

  it("answers with Cloudflare's Ray ID as the request id, so a read with no line of its own can be found in the platform's log", async () => {
    const rayId = '8f1e2d3c4b5a6978-LHR'

    const read = await api('/health', { headers: { 'CF-Ray': rayId } })
    const failed = await new FaultyStorage({ failAt: 1 }).fetch('/auth/login', {
      method: 'POST',
      headers: { 'CF-Ray': rayId, 'Content-Type': 'application/json' },
      body: JSON.stringify({ email: uniqueEmail(), password: PASSWORD }),
    })

    expect([read.status, failed.status]).toEqual([200, 503])
    expect(requestIdOf(read)).toBe(rayId)
    expect(requestIdOf(failed)).toBe(rayId)
    expect(requestLines().map((line) => [line.request_id, line.status])).toEqual([[rayId, 503]])
  })

  it('logs a 503 with its cause but without the request body', async () => {
    const res = await new FaultyStorage({ failAt: 1 }).fetch('/auth/login', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ email: uniqueEmail(), password: PASSWORD }),
    })

    expect(res.status).toBe(503)
    expect(requestLines()).toHaveLength(1)
    const everything = logged.join('\n')
    expect(everything).toContain('DependencyUnavailable')
    expect(everything).not.toContain(PASSWORD)
  })

  it('logs the route pattern, not a path that could forge a line, and ignores a malformed offered id', async () => {
    const forged = '/notes/%0A%7B%22msg%22%3A%22request%22%7D'
    const account = await registerUser()
    logged.length = 0

    // The session check fails: a 503, which is logged.
    const res = await new FaultyStorage({ failAt: 1 }).fetch(forged, {
      headers: { 'CF-Ray': '"},"msg":"x', Authorization: `Bearer ${account.accessToken}` },
    })

    expect(res.status).toBe(503)
    const lines = requestLines()
    expect(lines).toHaveLength(1)
    expect(lines[0].route).toBe('/notes/:id')
    expect(lines[0].request_id).toBe(requestIdOf(res))
    expect(lines[0].request_id).toMatch(/^[0-9a-f-]{36}$/)
    expect(logged.join('\n')).not.toContain('%7B')
  })
})
