/**
 * Smaller promises of the contract, each tried as an attacker or a careless operator would:
 * token audience, the absolute session lifetime, CORS_ORIGINS and secret validation, the
 * challenge on every token_revoked, the per-client limit's reach, and login timing across
 * password algorithms.
 */
import { env } from 'cloudflare:test'
import { describe, expect, it, vi } from 'vitest'
import devVarsExample from '../.dev.vars.example?raw'
import { pbkdf2Sha256, scryptHasher } from '../src/auth/password'
import { registerUser, uniqueEmail } from './helpers/accounts'
import { pinClock, setClock } from './helpers/clock'
import { BASE_URL, api, apiWithEnv, callAppWith, expectError } from './helpers/requests'
import { refresh, rotate } from './helpers/sessions'
import { Barrier, d1PausingAfter } from './helpers/storage-faults'
import { accessClaims, decodeJwt, forgeToken } from './helpers/tokens'

const DAY = 86_400
const DEFAULT_MAX_AGE = 90 * DAY

describe('JWT_AUDIENCE', () => {
  it('access tokens carry aud, the issuer by default', async () => {
    const account = await registerUser()
    expect(decodeJwt(account.accessToken).payload.aud).toBe(env.JWT_ISSUER)
  })

  it('access tokens carry the configured JWT_AUDIENCE', async () => {
    const res = await apiWithEnv({ JWT_AUDIENCE: 'notes-api' }, '/auth/register', {
      json: { email: uniqueEmail(), password: 'correct horse battery staple' },
    })
    const body = (await res.json()) as { access_token: string }
    expect(decodeJwt(body.access_token).payload.aud).toBe('notes-api')
    const me = await apiWithEnv({ JWT_AUDIENCE: 'notes-api' }, '/me', { token: body.access_token })
    expect(me.status).toBe(200)
  })

  it('a correctly signed token for another audience is 401 invalid_token', async () => {
    const account = await registerUser()
    const forged = await forgeToken(
      { alg: 'HS256', typ: 'JWT' },
      accessClaims(account, { aud: 'billing-api' })
    )
    const res = await api('/me', { token: forged })
    await expectError(res, 401, 'invalid_token')
    expect(res.headers.get('WWW-Authenticate')).toMatch(/error="invalid_token"/)
  })

  it('a correctly signed token without aud is 401 invalid_token', async () => {
    const account = await registerUser()
    const claims = accessClaims(account)
    delete claims.aud
    await expectError(
      await api('/me', { token: await forgeToken({ alg: 'HS256', typ: 'JWT' }, claims) }),
      401,
      'invalid_token'
    )
  })

  it('a token minted for one audience is refused where another is configured', async () => {
    const account = await registerUser()
    await expectError(
      await apiWithEnv({ JWT_AUDIENCE: 'notes-api' }, '/me', { token: account.accessToken }),
      401,
      'invalid_token'
    )
  })
})

describe('SESSION_MAX_AGE', () => {
  it('refreshing never extends a session past 90 days from its login, nor promises more', async () => {
    const start = pinClock()
    const account = await registerUser()
    let tokens = { accessToken: account.accessToken, refreshToken: account.refreshToken }
    for (const day of [29, 58]) {
      setClock(start + day * DAY * 1000)
      tokens = await rotate(tokens.refreshToken)
    }
    setClock(start + 87 * DAY * 1000)
    const late = await refresh(tokens.refreshToken)
    expect(late.status).toBe(200)
    const body = (await late.json()) as { refresh_token: string; refresh_expires_in: number }
    expect(body.refresh_expires_in).toBe(DEFAULT_MAX_AGE - 87 * DAY)

    setClock(start + DEFAULT_MAX_AGE * 1000)
    await expectError(await refresh(body.refresh_token), 401, 'invalid_refresh_token')
  })

  it('a shorter SESSION_MAX_AGE caps refresh_expires_in from the first token on', async () => {
    pinClock()
    const res = await apiWithEnv({ SESSION_MAX_AGE: '3600' }, '/auth/register', {
      json: { email: uniqueEmail(), password: 'correct horse battery staple' },
    })
    expect(res.status).toBe(201)
    const body = (await res.json()) as { refresh_expires_in: number }
    expect(body.refresh_expires_in).toBe(3600)
  })

  it.each(['ten', '0', '59', '-1'])(
    'SESSION_MAX_AGE=%s is 500 server_misconfigured',
    async (value) => {
      await expectError(
        await apiWithEnv({ SESSION_MAX_AGE: value }, '/auth/login', {
          json: { email: uniqueEmail(), password: 'whatever it is' },
        }),
        500,
        'server_misconfigured'
      )
    }
  )
})

describe('configuration that must be refused', () => {
  it.each([
    'null',
    '*',
    'https://app.example.com/',
    'https://app.example.com/path',
    'app.example.com',
  ])('CORS_ORIGINS=%s is 500 server_misconfigured', async (origins) => {
    await expectError(
      await apiWithEnv({ CORS_ORIGINS: origins }, '/auth/login', {
        json: { email: uniqueEmail(), password: 'whatever it is' },
        headers: { Origin: 'https://app.example.com' },
      }),
      500,
      'server_misconfigured'
    )
  })

  it('CORS_ORIGINS with exact origins is accepted', async () => {
    const res = await apiWithEnv(
      { CORS_ORIGINS: 'https://app.example.com, http://localhost:5173' },
      '/health',
      { headers: { Origin: 'https://app.example.com' } }
    )
    expect(res.status).toBe(200)
    expect(res.headers.get('Access-Control-Allow-Origin')).toBe('https://app.example.com')
  })

  it('the JWT_SECRET placeholder of .dev.vars.example is refused as a secret', async () => {
    const placeholder = /^JWT_SECRET=(.*)$/m.exec(devVarsExample)?.[1]
    expect(placeholder).toBeDefined()
    await expectError(
      await apiWithEnv({ JWT_SECRET: placeholder }, '/auth/register', {
        json: { email: uniqueEmail(), password: 'correct horse battery staple' },
      }),
      500,
      'server_misconfigured'
    )
  })
})

describe('every token_revoked carries WWW-Authenticate', () => {
  /** Holds a request right after requireAuth read its session, while the account is deleted. */
  const deletedMidRequest = async (
    userId: string,
    path: string,
    init: Parameters<typeof api>[1]
  ) => {
    const barrier = new Barrier(1)
    const db = d1PausingAfter(env.DB, /FROM sessions s JOIN users u/, () => barrier.arrive())
    const pending = apiWithEnv({ DB: db }, path, init)
    await barrier.allArrived
    await env.DB.batch([
      env.DB.prepare('DELETE FROM sessions WHERE user_id = ?1').bind(userId),
      env.DB.prepare('DELETE FROM users WHERE id = ?1').bind(userId),
    ])
    barrier.release()
    return pending
  }

  it('PATCH /me on an account deleted mid-request', async () => {
    const account = await registerUser()
    const res = await deletedMidRequest(account.userId, '/me', {
      method: 'PATCH',
      token: account.accessToken,
      json: { nickname: 'late' },
    })
    await expectError(res, 401, 'token_revoked')
    expect(res.headers.get('WWW-Authenticate')).toMatch(/^Bearer .*error="invalid_token"/)
  })

  it('POST /auth/password on an account deleted mid-request', async () => {
    const account = await registerUser()
    const res = await deletedMidRequest(account.userId, '/auth/password', {
      token: account.accessToken,
      json: { current_password: account.password, new_password: 'another long passphrase' },
    })
    await expectError(res, 401, 'token_revoked')
    expect(res.headers.get('WWW-Authenticate')).toMatch(/^Bearer .*error="invalid_token"/)
  })
})

describe('the per-client rate limit', () => {
  const refusingLimiter = { limit: async () => ({ success: false }) }
  const send = (method: string, path: string) => {
    const request = new Request(`${BASE_URL}${path}`, {
      method,
      headers: { 'CF-Connecting-IP': '192.0.2.7', 'Content-Type': 'application/json' },
      body: method === 'GET' ? undefined : '{}',
    })
    return callAppWith(
      { ...env, CLIENT_RATE_LIMIT_MODE: 'required', CLIENT_RATE_LIMIT: refusingLimiter },
      request
    )
  }

  it('counts a request to GET /me once', async () => {
    let calls = 0
    const counting = {
      limit: async () => {
        calls += 1
        return { success: true }
      },
    }
    const request = new Request(`${BASE_URL}/me`, { headers: { 'CF-Connecting-IP': '192.0.2.8' } })
    await callAppWith(
      { ...env, CLIENT_RATE_LIMIT_MODE: 'required', CLIENT_RATE_LIMIT: counting },
      request
    )
    expect(calls).toBe(1)
  })

  it.each([
    ['POST', '/oauth/token'],
    ['POST', '/oauth/revoke'],
    ['GET', '/me'],
    ['DELETE', '/me'],
    ['GET', '/me/anything'],
  ])('covers %s %s', async (method, path) => {
    const res = await send(method, path)
    // /oauth answers in RFC 6749's error shape, the rest in the API's; both say 429.
    expect(res.status, await res.clone().text()).toBe(429)
    expect(res.headers.get('Retry-After')).not.toBeNull()
  })
})

describe('login timing across password algorithms', { timeout: 60_000 }, () => {
  it('a wrong password for an account hashed under another algorithm also runs the current policy`s derivation', async () => {
    const account = await registerUser()
    const scrypt = vi.spyOn(scryptHasher, 'derive')
    const pbkdf2 = vi.spyOn(pbkdf2Sha256, 'derive')

    const res = await apiWithEnv({ PASSWORD_HASH: 'scrypt' }, '/auth/login', {
      json: { email: account.email, password: 'not the password' },
    })

    await expectError(res, 401, 'invalid_credentials')
    expect(pbkdf2).toHaveBeenCalledTimes(1)
    expect(scrypt).toHaveBeenCalledTimes(1)
  })
})
