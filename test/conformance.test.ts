/**
 * The document tells the truth: every operation's success and every error status it declares is
 * produced through the worker and checked against public/openapi.json (status, required headers,
 * body schema); an undeclared status fails, and so does a declared one that no case produced.
 */
import { describe, expect, it } from 'vitest'
import { PASSWORD, registerUser, uniqueEmail } from './helpers/accounts'
import type { Account } from './helpers/accounts'
import { createAuthenticator } from './helpers/authenticator'
import { advanceClock, pinClock } from './helpers/clock'
import { COOKIE_MODE, CookieJar, browserApi, registerInCookieMode } from './helpers/cookies'
import { expectConforms, observed, operationKey, operations } from './helpers/openapi'
import { passkeyApi, passkeyCeremonies } from './helpers/passkeys'
import {
  askVerification,
  forgot,
  mailApi,
  resetPassword,
  resetTokenFor,
  verificationTokenFor,
  verifyEmail,
} from './helpers/recovery'
import { buildRequest, apiWithEnv, api } from './helpers/requests'
import type { RequestOptions } from './helpers/requests'
import { shardDb } from './helpers/shards'
import { FaultyStorage } from './helpers/storage-faults'
import { totpAt } from './helpers/totp'

const ANY_ID = '00000000-0000-4000-8000-000000000000'
const NEW_PASSWORD = 'a brand new passphrase'

/** A request that passes authentication and validation for each operation, given an account. */
const VALID: Record<string, (account: Account) => RequestOptions> = {
  'POST /auth/register': () => ({ json: { email: uniqueEmail(), password: PASSWORD } }),
  'POST /auth/login': (a) => ({ json: { email: a.email, password: a.password } }),
  'POST /auth/refresh': (a) => ({ json: { refresh_token: a.refreshToken } }),
  'POST /auth/logout': (a) => ({ token: a.accessToken, json: {} }),
  'POST /auth/password': (a) => ({
    token: a.accessToken,
    json: { current_password: a.password, new_password: NEW_PASSWORD },
  }),
  'PATCH /me': (a) => ({ token: a.accessToken, json: { nickname: 'Ada' } }),
  'DELETE /me': (a) => ({ token: a.accessToken, json: { password: a.password } }),
  'POST /notes': (a) => ({ token: a.accessToken, json: { title: 't', body: 'b' } }),
  'PATCH /notes/{id}': (a) => ({ token: a.accessToken, json: { title: 't2' } }),
  'POST /oauth/token': (a) => ({
    body: `grant_type=refresh_token&refresh_token=${a.refreshToken}`,
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
  }),
  'POST /oauth/revoke': (a) => ({
    body: `token=${a.refreshToken}`,
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
  }),
  // Well-formed tokens that were never issued: the first storage call is their lookup.
  'POST /auth/password/reset': () => ({
    json: { token: 'A'.repeat(43), new_password: NEW_PASSWORD },
  }),
  'POST /auth/email/verify': () => ({ json: { token: 'A'.repeat(43) } }),
  'POST /auth/mfa/verify': () => ({
    json: { mfa_token: 'A'.repeat(43), method: 'totp', code: '123456' },
  }),
}

const requestFor = (method: string, path: string, account: Account): RequestOptions => {
  const key = operationKey(method, path)
  const needsToken = operations().find((o) => operationKey(o.method, o.path) === key)?.operation
    .security.length
  return {
    method: method.toUpperCase(),
    ...(needsToken ? { token: account.accessToken } : {}),
    ...VALID[key]?.(account),
  }
}

const concrete = (path: string, id = ANY_ID) => path.replace('{id}', id)

const statuses = (method: string, path: string): string[] =>
  Object.keys(
    operations().find((o) => operationKey(o.method, o.path) === operationKey(method, path))!
      .operation.responses
  )

const declaring = (status: string) =>
  operations().filter(({ operation }) => status in operation.responses)

const isJsonBody = (method: string, path: string) =>
  operations().find((o) => operationKey(o.method, o.path) === operationKey(method, path))?.operation
    .requestBody?.content['application/json'] !== undefined

describe('every documented operation, success path', () => {
  it('GET /health, /openapi.json and the .well-known documents', async () => {
    for (const path of [
      '/health',
      '/openapi.json',
      '/.well-known/jwks.json',
      '/.well-known/oauth-authorization-server',
    ]) {
      await expectConforms('get', path, await api(path))
    }
    // wrangler.toml's placeholder issuer is no URL: no metadata to publish.
    await expectConforms(
      'get',
      '/.well-known/oauth-authorization-server',
      await apiWithEnv({ JWT_ISSUER: 'edge-jwt-auth' }, '/.well-known/oauth-authorization-server')
    )
  })

  it('POST /auth/register, bearer and cookie mode', async () => {
    const created = await api('/auth/register', VALID['POST /auth/register'](undefined!))
    expect(created.status).toBe(201)
    await expectConforms('post', '/auth/register', created)
    const jar = new CookieJar()
    const cookie = await browserApi(jar, '/auth/register', {
      json: { email: uniqueEmail(), password: PASSWORD },
      headers: COOKIE_MODE,
    })
    expect(cookie.status).toBe(201)
    expect(cookie.headers.get('Set-Cookie')).toMatch(/__Host-access_token=/)
    const body = await expectConforms('post', '/auth/register', cookie)
    expect(body).toMatchObject({ auth_mode: 'cookie' })
    expect(body).not.toHaveProperty('access_token')
  })

  it('POST /auth/login and /auth/refresh, bearer and cookie mode with no body', async () => {
    const account = await registerUser()
    await expectConforms(
      'post',
      '/auth/login',
      await api('/auth/login', VALID['POST /auth/login'](account))
    )
    await expectConforms(
      'post',
      '/auth/refresh',
      await api('/auth/refresh', VALID['POST /auth/refresh'](account))
    )
    const { jar } = await registerInCookieMode()
    const res = await browserApi(jar, '/auth/refresh', { method: 'POST', headers: COOKIE_MODE })
    expect(res.status).toBe(200)
    await expectConforms('post', '/auth/refresh', res)
  })

  it('POST /auth/logout without a body, and /auth/logout-all', async () => {
    const account = await registerUser()
    const res = await api('/auth/logout', { method: 'POST', token: account.accessToken })
    expect(res.status).toBe(204)
    await expectConforms('post', '/auth/logout', res)
    const other = await registerUser()
    await expectConforms(
      'post',
      '/auth/logout-all',
      await api('/auth/logout-all', { method: 'POST', token: other.accessToken })
    )
  })

  it('GET /auth/events: a page, and 400 for a cursor it did not hand out', async () => {
    const account = await registerUser()
    await api('/auth/logout-all', { method: 'POST', token: account.accessToken })
    const again = await api('/auth/login', VALID['POST /auth/login'](account))
    const { access_token: token } = await again.json<{ access_token: string }>()
    await expectConforms('get', '/auth/events', await api('/auth/events', { token }))
    await expectConforms(
      'get',
      '/auth/events',
      await api('/auth/events?cursor=not-a-cursor', { token })
    )
  })

  it('the session, account and note operations', async () => {
    const account = await registerUser()
    const list = (await expectConforms(
      'get',
      '/auth/sessions',
      await api('/auth/sessions', { token: account.accessToken })
    )) as { sessions: { id: string }[] }
    await expectConforms('get', '/me', await api('/me', { token: account.accessToken }))
    await expectConforms('patch', '/me', await api('/me', requestFor('patch', '/me', account)))
    const created = (await expectConforms(
      'post',
      '/notes',
      await api('/notes', requestFor('post', '/notes', account))
    )) as { note: { id: string } }
    const id = created.note.id
    await expectConforms('get', '/notes', await api('/notes', { token: account.accessToken }))
    await expectConforms(
      'get',
      '/notes/{id}',
      await api(`/notes/${id}`, { token: account.accessToken })
    )
    await expectConforms(
      'patch',
      '/notes/{id}',
      await api(`/notes/${id}`, requestFor('patch', '/notes/{id}', account))
    )
    await expectConforms(
      'delete',
      '/notes/{id}',
      await api(`/notes/${id}`, { method: 'DELETE', token: account.accessToken })
    )

    const second = await registerUser({ email: account.email.replace('@', '+2@') })
    const again = await api('/auth/login', VALID['POST /auth/login'](account))
    const sid = list.sessions[0].id
    const { access_token: token } = await again.json<{ access_token: string }>()
    await expectConforms(
      'delete',
      '/auth/sessions/{id}',
      await api(`/auth/sessions/${sid}`, { method: 'DELETE', token })
    )
    await expectConforms(
      'post',
      '/auth/password',
      await api(
        '/auth/password',
        requestFor('post', '/auth/password', { ...account, accessToken: token })
      )
    )
    await expectConforms(
      'delete',
      '/me',
      await api('/me', requestFor('delete', '/me', { ...second }))
    )
  })

  it('POST /oauth/token and /oauth/revoke', async () => {
    const account = await registerUser()
    const grant = await api('/oauth/token', requestFor('post', '/oauth/token', account))
    const { refresh_token: refreshToken } = (await expectConforms(
      'post',
      '/oauth/token',
      grant
    )) as { refresh_token: string }
    await expectConforms(
      'post',
      '/oauth/revoke',
      await api('/oauth/revoke', requestFor('post', '/oauth/revoke', { ...account, refreshToken }))
    )
  })
})

describe('account recovery, email verification and the dev outbox', () => {
  it('POST /auth/password/forgot and /auth/password/reset', async () => {
    const account = await registerUser()
    const accepted = await forgot(account.email)
    expect(accepted.status).toBe(202)
    await expectConforms('post', '/auth/password/forgot', accepted)
    const token = await resetTokenFor(account.email)
    const reset = await resetPassword(token, NEW_PASSWORD)
    expect(reset.status).toBe(204)
    await expectConforms('post', '/auth/password/reset', reset)
    const reused = await resetPassword(token, NEW_PASSWORD)
    expect(await expectConforms('post', '/auth/password/reset', reused)).toMatchObject({
      error: 'invalid_one_time_token',
    })
  })

  it('POST /auth/email/verification and /auth/email/verify', async () => {
    const account = await registerUser()
    const accepted = await askVerification(account.email)
    expect(accepted.status).toBe(202)
    await expectConforms('post', '/auth/email/verification', accepted)
    const token = await verificationTokenFor(account.email)
    const verified = await verifyEmail(token)
    expect(verified.status).toBe(200)
    expect(await expectConforms('post', '/auth/email/verify', verified)).toMatchObject({
      user: { email_verified: true },
    })
    await expectConforms('post', '/auth/email/verify', await verifyEmail(token))
  })

  it('POST /auth/register without tokens and POST /auth/login 403 while verification is required', async () => {
    const required = { REQUIRE_EMAIL_VERIFICATION: 'true' }
    const email = uniqueEmail()
    const registered = await mailApi(
      '/auth/register',
      { json: { email, password: PASSWORD } },
      required
    )
    expect(registered.status).toBe(201)
    expect(await expectConforms('post', '/auth/register', registered)).toMatchObject({
      email_verification_required: true,
    })
    const login = await mailApi('/auth/login', { json: { email, password: PASSWORD } }, required)
    expect(login.status).toBe(403)
    await expectConforms('post', '/auth/login', login)
  })

  it('GET /dev/outbox: 200 with DEV_OUTBOX=on, 404 without', async () => {
    const on = await mailApi('/dev/outbox', { headers: { Host: 'localhost:8787' } })
    expect(on.status).toBe(200)
    await expectConforms('get', '/dev/outbox', on)
    const off = await api('/dev/outbox')
    expect(off.status).toBe(404)
    await expectConforms('get', '/dev/outbox', off)
  })
})

describe('the errors every operation of a kind declares', () => {
  it.each(
    declaring('401')
      .filter(({ operation }) => operation.security.length > 0)
      .map((o) => [operationKey(o.method, o.path), o])
  )('%s: 401 without a token', async (_, { method, path }) => {
    await expectConforms(method, path, await api(concrete(path), { method: method.toUpperCase() }))
  })

  it.each(
    declaring('403')
      .filter((o) => o.method !== 'get')
      .map((o) => [operationKey(o.method, o.path), o])
  )('%s: 403 for a cookie request from another origin', async (_, { method, path }) => {
    const res = await api(concrete(path), {
      method: method.toUpperCase(),
      headers: { Cookie: '__Host-access_token=x', Origin: 'https://evil.example' },
    })
    expect(res.status).toBe(403)
    await expectConforms(method, path, res)
  })

  it.each(declaring('413').map((o) => [operationKey(o.method, o.path), o]))(
    '%s: 413 for a body over 16 KiB',
    async (_, { method, path }) => {
      const res = await api(concrete(path), {
        method: method.toUpperCase(),
        body: JSON.stringify({ padding: 'x'.repeat(17 * 1024) }),
        headers: { 'Content-Type': 'application/json' },
      })
      expect(res.status).toBe(413)
      await expectConforms(method, path, res)
    }
  )

  it.each(
    declaring('400')
      .filter((o) => isJsonBody(o.method, o.path))
      .map((o) => [operationKey(o.method, o.path), o])
  )('%s: 400 and 415 for a body that is not JSON', async (_, { method, path }) => {
    const account = await registerUser()
    const base = requestFor(method, path, account)
    const broken = await api(concrete(path), {
      ...base,
      json: undefined,
      body: '{',
      headers: { 'Content-Type': 'application/json' },
    })
    expect(broken.status).toBe(400)
    await expectConforms(method, path, broken)
    const text = await api(concrete(path), {
      ...base,
      json: undefined,
      body: 'x',
      headers: { 'Content-Type': 'text/plain' },
    })
    expect(text.status).toBe(415)
    await expectConforms(method, path, text)
  })

  it.each(
    declaring('429')
      // The per-client limit covers every route that checks a password or a token.
      .filter((o) => /^\/(auth|me|oauth)(\/|$)/.test(o.path))
      .map((o) => [operationKey(o.method, o.path), o])
  )('%s: 429 from the per-client limit', async (_, { method, path }) => {
    const limiter = { limit: () => Promise.resolve({ success: false }) }
    const res = await apiWithEnv(
      { CLIENT_RATE_LIMIT_MODE: 'required', CLIENT_RATE_LIMIT: limiter },
      concrete(path),
      {
        method: method.toUpperCase(),
        headers: { 'CF-Connecting-IP': '192.0.2.7' },
      }
    )
    expect(res.status).toBe(429)
    await expectConforms(method, path, res)
  })

  it.each(declaring('500').map((o) => [operationKey(o.method, o.path), o]))(
    '%s: 500 server_misconfigured',
    async (_, { method, path }) => {
      const account = await registerUser()
      const options = requestFor(method, path, account)
      const broken =
        path === '/.well-known/jwks.json'
          ? { JWT_ALGORITHM: 'EdDSA', JWT_PRIVATE_KEYS: undefined }
          : path === '/openapi.json'
            ? {
                ASSETS: {
                  fetch: () => Promise.resolve(new Response('gone', { status: 404 })),
                } as unknown as Fetcher,
              }
            : // No signing secret, and the required per-client limiter missing.
              {
                JWT_SECRET: undefined,
                CLIENT_RATE_LIMIT_MODE: 'required',
                CLIENT_RATE_LIMIT: undefined,
              }
      const revokeWithJwt = path === '/oauth/revoke' ? { body: `token=${account.accessToken}` } : {}
      const res = await apiWithEnv(broken, concrete(path), { ...options, ...revokeWithJwt })
      expect(res.status).toBe(500)
      await expectConforms(method, path, res)
    }
  )

  it.each(declaring('503').map((o) => [operationKey(o.method, o.path), o]))(
    '%s: 503 when storage fails',
    async (_, { method, path }) => {
      const account = await registerUser()
      const res = await new FaultyStorage({ failAt: 1 }).fetchRequest(
        buildRequest(concrete(path), requestFor(method, path, account))
      )
      expect(res.status).toBe(503)
      await expectConforms(method, path, res)
    }
  )
})

describe('errors of one operation', () => {
  it('POST /auth/register: 409 email_taken', async () => {
    const account = await registerUser()
    await expectConforms(
      'post',
      '/auth/register',
      await api('/auth/register', { json: { email: account.email, password: PASSWORD } })
    )
  })

  it('POST /auth/login: 401 invalid_credentials, then 429 too_many_requests', async () => {
    const account = await registerUser()
    const wrong = { email: account.email, password: 'wrong password' }
    const statuses: number[] = []
    for (let attempt = 0; attempt < 11; attempt++) {
      const res = await api('/auth/login', { json: wrong })
      statuses.push(res.status)
      await expectConforms('post', '/auth/login', res)
    }
    expect(statuses).toEqual([...Array<number>(10).fill(401), 429])
  })

  it('POST /auth/refresh: 401 invalid_refresh_token', async () => {
    await expectConforms(
      'post',
      '/auth/refresh',
      await api('/auth/refresh', { json: { refresh_token: 'nope' } })
    )
  })

  it('POST /auth/password and DELETE /me: 403 invalid_credentials', async () => {
    const account = await registerUser()
    const wrong = { current_password: 'wrong password', new_password: NEW_PASSWORD }
    const change = await api('/auth/password', { token: account.accessToken, json: wrong })
    expect(change.status).toBe(403)
    await expectConforms('post', '/auth/password', change)
    const json = { password: 'wrong password' }
    const deletion = await api('/me', { method: 'DELETE', token: account.accessToken, json })
    expect(deletion.status).toBe(403)
    await expectConforms('delete', '/me', deletion)
  })

  it('404 for another id on the session and note routes', async () => {
    const account = await registerUser()
    for (const [method, path] of [
      ['delete', '/auth/sessions/{id}'],
      ['get', '/notes/{id}'],
      ['patch', '/notes/{id}'],
      ['delete', '/notes/{id}'],
    ]) {
      await expectConforms(
        method,
        path,
        await api(concrete(path), requestFor(method, path, account))
      )
    }
  })

  it('OAuth: 400 invalid_request and 401 invalid_client in the RFC 6749 shape', async () => {
    for (const path of ['/oauth/token', '/oauth/revoke']) {
      const bad = await api(path, { method: 'POST', json: {} })
      expect(bad.status).toBe(400)
      expect(await expectConforms('post', path, bad)).toMatchObject({ error: 'invalid_request' })
      const client = await api(path, {
        method: 'POST',
        body: 'token=x&grant_type=refresh_token&refresh_token=x',
        headers: {
          'Content-Type': 'application/x-www-form-urlencoded',
          Authorization: 'Basic Zm9vOmJhcg==',
        },
      })
      expect(client.status).toBe(401)
      expect(await expectConforms('post', path, client)).toMatchObject({ error: 'invalid_client' })
    }
  })
})

describe('the second factor', () => {
  it('setting TOTP up, signing in with it, re-authenticating, turning it off', async () => {
    pinClock(Math.floor(Date.now() / 30_000) * 30_000)
    const account = await registerUser()
    const token = account.accessToken
    const setup = await api('/auth/mfa/totp', { method: 'POST', token })
    const { secret } = (await expectConforms('post', '/auth/mfa/totp', setup)) as { secret: string }
    const confirm = (code: string) => api('/auth/mfa/totp/confirm', { token, json: { code } })
    await expectConforms('post', '/auth/mfa/totp/confirm', await confirm(await totpAt(secret)))
    advanceClock(30)
    const login = await api('/auth/login', { json: { email: account.email, password: PASSWORD } })
    const { mfa_token: mfaToken } = (await expectConforms('post', '/auth/login', login)) as {
      mfa_token: string
    }
    const verify = (code: string) =>
      api('/auth/mfa/verify', { json: { mfa_token: mfaToken, method: 'totp', code } })
    const right = await totpAt(secret)
    await expectConforms(
      'post',
      '/auth/mfa/verify',
      await verify(right === '123456' ? '654321' : '123456')
    )
    const signedIn = (await expectConforms('post', '/auth/mfa/verify', await verify(right))) as {
      access_token: string
    }
    const again = await api('/auth/reauthenticate', { token, json: { password: PASSWORD } })
    const renewed = (await expectConforms('post', '/auth/reauthenticate', again)) as {
      access_token: string
    }
    const codes = (bearer = signedIn.access_token) =>
      api('/auth/mfa/recovery-codes', { method: 'POST', token: bearer })
    // The password alone makes no fresh sign-in on an account with a second factor: a 401.
    await expectConforms('post', '/auth/mfa/recovery-codes', await codes(renewed.access_token))
    const strong = { token: signedIn.access_token }
    await expectConforms(
      'post',
      '/auth/mfa/totp',
      await api('/auth/mfa/totp', { method: 'POST', ...strong })
    )
    await expectConforms(
      'post',
      '/auth/mfa/totp/confirm',
      await api('/auth/mfa/totp/confirm', { ...strong, json: { code: '123456' } })
    )
    const { recovery_codes: recovery } = (await expectConforms(
      'post',
      '/auth/mfa/recovery-codes',
      await codes()
    )) as { recovery_codes: string[] }
    const off = () =>
      api('/auth/mfa/totp', { method: 'DELETE', ...strong, json: { code: recovery[0] } })
    await expectConforms('delete', '/auth/mfa/totp', await off())
    await expectConforms('delete', '/auth/mfa/totp', await off())
    await expectConforms('post', '/auth/mfa/recovery-codes', await codes())
  })
})

describe('passkeys (with a relying party configured)', () => {
  it('registers, lists, signs in (200, 202, 401), answers a second factor, removes (204, 404)', async () => {
    const { registrationOptions, loginOptions } = passkeyCeremonies(passkeyApi)
    const account = await registerUser()
    const authenticator = await createAuthenticator()
    const options = await passkeyApi('/auth/passkeys/register/options', {
      method: 'POST',
      token: account.accessToken,
    })
    await expectConforms('post', '/auth/passkeys/register/options', options)
    const credential = await authenticator.create(await registrationOptions(account))
    const register = (json: unknown) =>
      passkeyApi('/auth/passkeys/register', { token: account.accessToken, json })
    await expectConforms('post', '/auth/passkeys/register', await register({ credential }))
    const again = await register({ credential })
    expect(again.status).toBe(400)
    await expectConforms('post', '/auth/passkeys/register', again)
    const list = await passkeyApi('/auth/passkeys', { token: account.accessToken })
    const { passkeys } = (await expectConforms('get', '/auth/passkeys', list)) as {
      passkeys: { id: string }[]
    }

    const login = async (tampering = {}) => {
      const res = await passkeyApi('/auth/passkeys/login/options', { json: {} })
      const request = (await expectConforms('post', '/auth/passkeys/login/options', res)) as never
      const assertion = await authenticator.get(request, tampering)
      return passkeyApi('/auth/passkeys/login', { json: { credential: assertion } })
    }
    // A user-verified passkey sign-in: fresh, also once the account has another second factor.
    const { access_token: verified } = (await expectConforms(
      'post',
      '/auth/passkeys/login',
      await login()
    )) as { access_token: string }
    const forged = await login({ origin: 'https://evil.example' })
    expect(forged.status).toBe(401)
    await expectConforms('post', '/auth/passkeys/login', forged)
    // With another second factor on, a sign-in without user verification answers 202.
    await shardDb(account.userId)
      .prepare(`UPDATE users SET mfa = json_set(mfa, '$.totp', json('true')) WHERE id = ?1`)
      .bind(account.userId)
      .run()
    const partial = await login({ uv: false })
    expect(partial.status).toBe(202)
    const { mfa_token: mfaToken } = (await expectConforms(
      'post',
      '/auth/passkeys/login',
      partial
    )) as {
      mfa_token: string
    }
    for (const token of [mfaToken, 'x'.repeat(43)]) {
      const res = await passkeyApi('/auth/mfa/passkey/options', { json: { mfa_token: token } })
      await expectConforms('post', '/auth/mfa/passkey/options', res)
    }
    expect((await loginOptions()).challenge).toBeTruthy()

    for (const id of [passkeys[0].id, passkeys[0].id]) {
      const res = await passkeyApi(`/auth/passkeys/${id}`, { method: 'DELETE', token: verified })
      await expectConforms('delete', '/auth/passkeys/{id}', res)
    }
  })
})

it('every status the document declares was produced by a case above', () => {
  const declared = operations().flatMap(({ method, path, operation }) =>
    Object.keys(operation.responses).map((status) => `${operationKey(method, path)} ${status}`)
  )
  expect(declared.length).toBeGreaterThan(60)
  expect(declared.filter((entry) => !observed.has(entry))).toEqual([])
})

it('statuses() lists what an operation declares', () => {
  expect(statuses('get', '/me')).toEqual(expect.arrayContaining(['200', '401', '500', '503']))
})

it('the recovery routes that read storage declare their 503, and those that answer first do not', () => {
  for (const path of ['/auth/password/reset', '/auth/email/verify']) {
    expect(statuses('post', path), path).toContain('503')
  }
  // The 202 is given before any storage is touched: an outage there is only a lost message.
  for (const path of ['/auth/password/forgot', '/auth/email/verification']) {
    expect(statuses('post', path), path).not.toContain('503')
  }
})
