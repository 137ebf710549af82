/**
 * A rejected request costs no more than an accepted one: GET /me with a forged token writes no
 * log line, renders no ApiError and runs no more pattern matching than with a valid token. The
 * work is counted, not timed; `npm run bench` measures the CPU (forged <= valid GET /me).
 */
import { env } from 'cloudflare:test'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { ApiError } from '../src/http/errors'
import { registerUser } from './helpers/accounts'
import type { Account } from './helpers/accounts'
import { BASE_URL, callAppWith, expectError } from './helpers/requests'
import { accessClaims, forgeToken } from './helpers/tokens'

let consoleLines = 0
let apiErrorsRendered = 0
let patternRuns = 0

beforeEach(() => {
  consoleLines = 0
  apiErrorsRendered = 0
  patternRuns = 0
  for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) {
    vi.spyOn(console, method).mockImplementation(() => {
      consoleLines++
    })
  }
  const descriptor = Object.getOwnPropertyDescriptor(ApiError.prototype, 'body')!
  vi.spyOn(ApiError.prototype, 'body', 'get').mockImplementation(function (this: ApiError) {
    apiErrorsRendered++
    return descriptor.get!.call(this) as ApiError['body']
  })
  const { exec } = RegExp.prototype as { exec: (this: RegExp, input: string) => unknown }
  vi.spyOn(RegExp.prototype, 'exec').mockImplementation(function (this: RegExp, input: string) {
    patternRuns++
    return exec.call(this, input) as RegExpExecArray | null
  })
})

/** GET /me with this token, and the work it took. */
const me = async (token: string) => {
  consoleLines = 0
  apiErrorsRendered = 0
  patternRuns = 0
  const res = await callAppWith(
    env,
    new Request(`${BASE_URL}/me`, { headers: { Authorization: `Bearer ${token}` } })
  )
  return { res, consoleLines, apiErrorsRendered, patternRuns }
}

const forgeries = async (account: Account): Promise<Record<string, string>> => {
  const [header, payload, signature] = account.accessToken.split('.')
  const flipped = signature.startsWith('A') ? `B${signature.slice(1)}` : `A${signature.slice(1)}`
  return {
    'a flipped signature': `${header}.${payload}.${flipped}`,
    'another secret': await forgeToken(
      { alg: 'HS256', typ: 'JWT' },
      accessClaims(account),
      'a secret that is not the one the worker signs with'
    ),
    'alg none': await forgeToken({ alg: 'none', typ: 'JWT' }, accessClaims(account)),
    'no signature part': `${header}.${payload}`,
    garbage: 'x'.repeat(400),
  }
}

describe('GET /me with a forged token', () => {
  it('writes no log line and renders no ApiError, like the valid token', async () => {
    const account = await registerUser()
    const valid = await me(account.accessToken)
    expect(valid.res.status).toBe(200)
    expect([valid.consoleLines, valid.apiErrorsRendered]).toEqual([0, 0])

    for (const [forgery, token] of Object.entries(await forgeries(account))) {
      const forged = await me(token)
      await expectError(forged.res, 401, 'invalid_token')
      expect(forged.res.headers.get('WWW-Authenticate'), forgery).toMatch(
        /^Bearer .*error="invalid_token"/
      )
      expect({ forgery, lines: forged.consoleLines, apiErrors: forged.apiErrorsRendered }).toEqual({
        forgery,
        lines: 0,
        apiErrors: 0,
      })
      // No more matching than the valid request (the router's and the header checks').
      expect(forged.patternRuns, forgery).toBeLessThanOrEqual(valid.patternRuns)
    }
  })

  it('an expired or revoked token is answered the same cheap way', async () => {
    const account = await registerUser()
    const expired = await forgeToken(
      { alg: 'HS256', typ: 'JWT' },
      accessClaims(account, { exp: Math.floor(Date.now() / 1000) - 60 })
    )
    const answer = await me(expired)
    await expectError(answer.res, 401, 'token_expired')
    expect([answer.consoleLines, answer.apiErrorsRendered]).toEqual([0, 0])

    const logout = await callAppWith(
      env,
      new Request(`${BASE_URL}/auth/logout`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${account.accessToken}` },
      })
    )
    expect(logout.status).toBe(204)
    const revoked = await me(account.accessToken)
    await expectError(revoked.res, 401, 'token_revoked')
    expect([revoked.consoleLines, revoked.apiErrorsRendered]).toEqual([0, 0])
  })
})
