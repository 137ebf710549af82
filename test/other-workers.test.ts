/**
 * Another Worker building on this one: examples/resource-worker runs as a real second Worker in
 * the pool (vitest.config.mts), bound to this worker's AuthService entrypoint by a Service
 * Binding, and to a JWK set the tests publish from a real auth app. Each refusal is a token built
 * to be refused; the RPC methods are also called as a back office would call them.
 */
import { createExecutionContext, env, waitOnExecutionContext } from 'cloudflare:test'
import { beforeAll, describe, expect, it } from 'vitest'
import { AuthService } from '../src/index'
import type { Account } from './helpers/accounts'
import { loginUser, registerUser } from './helpers/accounts'
import { envWithKeys, fetchJwks, generateKey } from './helpers/jwks'
import type { PrivateJwk } from './helpers/jwks'
import { api, callApp, expectError } from './helpers/requests'
import { accessClaims, decodeJwt, forgeToken } from './helpers/tokens'

const resource = (path: string, token?: string, init: RequestInit = {}) =>
  env.RESOURCE.fetch(`https://resource.example.test${path}`, {
    ...init,
    headers: token === undefined ? {} : { Authorization: `Bearer ${token}` },
  })

const nowSeconds = () => Math.floor(Date.now() / 1000)

/** The pool's HS256 header: tokens forged with the test secret are genuine to this worker. */
const HS256 = { alg: 'HS256', typ: 'JWT' }

const challengeOf = (res: Response) => res.headers.get('WWW-Authenticate') ?? ''

describe('a resource worker verifying over RPC (Service Binding to AuthService)', () => {
  it('lets a live session in, with the same user and proof that requireAuth sets', async () => {
    const account = await registerUser()
    const res = await resource('/whoami', account.accessToken)
    expect(res.status, await res.clone().text()).toBe(200)
    expect(await res.json()).toEqual({
      user_id: account.userId,
      email: account.email,
      amr: ['pwd'],
    })
  })

  it('answers 401 missing_token with a bare challenge when no token is sent', async () => {
    const res = await resource('/whoami')
    await expectError(res, 401, 'missing_token')
    expect(challengeOf(res)).toBe('Bearer realm="edge-jwt-auth"')
  })

  it('answers 401 token_expired for a genuine token past its exp', async () => {
    const account = await registerUser()
    const expired = await forgeToken(
      HS256,
      accessClaims(account, { iat: nowSeconds() - 1000, exp: nowSeconds() - 100 })
    )
    const res = await resource('/whoami', expired)
    await expectError(res, 401, 'token_expired')
    expect(challengeOf(res)).toContain('error="invalid_token"')
  })

  it('answers 401 invalid_token for forged tokens: another secret, alg none, another audience', async () => {
    const account = await registerUser()
    const forged = [
      await forgeToken(
        HS256,
        accessClaims(account),
        'another-secret-that-is-long-enough-0123456789'
      ),
      await forgeToken({ alg: 'none', typ: 'JWT' }, accessClaims(account)),
      await forgeToken(HS256, accessClaims(account, { aud: 'another-service' })),
      `${account.accessToken.slice(0, -4)}AAAA`,
    ]
    for (const token of forged) {
      const res = await resource('/whoami', token)
      await expectError(res, 401, 'invalid_token')
      expect(challengeOf(res)).toContain('error="invalid_token"')
    }
  })

  it('answers 401 token_revoked once the session is logged out, at once', async () => {
    const account = await registerUser()
    expect((await resource('/whoami', account.accessToken)).status).toBe(200)
    const logout = await api('/auth/logout', { method: 'POST', token: account.accessToken })
    expect(logout.status).toBe(204)
    const res = await resource('/whoami', account.accessToken)
    await expectError(res, 401, 'token_revoked')
    expect(challengeOf(res)).toContain('error="invalid_token"')
  })

  it('refuses an Authorization header over 8 KiB before it is parsed', async () => {
    const res = await resource('/whoami', 'a'.repeat(8 * 1024 + 1))
    await expectError(res, 401, 'invalid_token')
  })

  it('asks for a recent sign-in on a step-up route (RFC 9470), and lets a fresh one through', async () => {
    const account = await registerUser()
    const fresh = await resource('/payouts', account.accessToken, { method: 'POST' })
    expect(fresh.status, await fresh.clone().text()).toBe(202)

    // The same live session, its user's proof 601 s old: a genuine token of the worker's key.
    const stale = await forgeToken(HS256, accessClaims(account, { auth_time: nowSeconds() - 601 }))
    const res = await resource('/payouts', stale, { method: 'POST' })
    await expectError(res, 401, 'reauthentication_required')
    expect(challengeOf(res)).toBe('Bearer error="insufficient_user_authentication", max_age="600"')
  })
})

describe('the AuthService entrypoint called directly, as a back office would', () => {
  const service = (bindings: object = env) =>
    new AuthService(createExecutionContext(), bindings as never)

  it('verifyAccessToken answers the claims, the user and where liveness was read', async () => {
    const account = await registerUser()
    const result = await service().verifyAccessToken(account.accessToken)
    expect(result).toMatchObject({
      ok: true,
      auth: { userId: account.userId, amr: ['pwd'] },
      user: { id: account.userId, email: account.email },
      claims: { sub: account.userId, sid: decodeJwt(account.accessToken).payload.sid },
      sessionCheck: 'primary',
    })
    const replica = await service({ ...env, SESSION_CHECK: 'replica' }).verifyAccessToken(
      account.accessToken
    )
    expect(replica).toMatchObject({ ok: true, sessionCheck: 'replica' })
  })

  it('refuses bad input with a typed error, never a throw', async () => {
    const rpc = service()
    const cases = [
      rpc.verifyAccessToken(42 as never),
      rpc.verifyAccessToken(''),
      rpc.listSessions('x'.repeat(129)),
      rpc.listSessions({ id: 'x' } as never),
      rpc.revokeSession('user', 'not an id'),
      rpc.revokeSession(undefined as never, 'session'),
    ]
    for (const result of await Promise.all(cases)) {
      expect(result).toMatchObject({
        ok: false,
        error: { code: 'validation_failed', status: 400 },
      })
    }
    const tooLong = await rpc.verifyAccessToken('a'.repeat(8 * 1024 + 1))
    expect(tooLong).toMatchObject({ ok: false, error: { code: 'invalid_token', status: 401 } })
  })

  it("listSessions and revokeSession: a user's own session ends, another user's is not_found", async () => {
    const owner = await registerUser()
    const stranger = await registerUser()
    const sessionId = String(decodeJwt(owner.accessToken).payload.sid)
    const rpc = service()

    const listed = await rpc.listSessions(owner.userId)
    expect(listed).toMatchObject({ ok: true, sessions: [{ id: sessionId }] })
    expect(listed.ok && Object.keys(listed.sessions[0]).sort()).toEqual(
      ['created_at', 'expires_at', 'id', 'last_used_at', 'user_agent'].sort()
    )

    expect(await rpc.revokeSession(stranger.userId, sessionId)).toMatchObject({
      ok: false,
      error: { code: 'not_found', status: 404 },
    })
    expect((await resource('/whoami', owner.accessToken)).status).toBe(200)

    const ctx = createExecutionContext()
    const backOffice = new AuthService(ctx, env as never)
    expect(await backOffice.revokeSession(owner.userId, sessionId)).toEqual({ ok: true })
    await waitOnExecutionContext(ctx)
    await expectError(await resource('/whoami', owner.accessToken), 401, 'token_revoked')
    expect(await rpc.listSessions(owner.userId)).toEqual({ ok: true, sessions: [] })

    // Recorded as DELETE /auth/sessions/:id records it, for the owner to see.
    const later = await loginUser(owner.email, owner.password)
    const events = await api('/auth/events', { token: later.accessToken })
    expect(await events.json()).toMatchObject({
      events: expect.arrayContaining([
        expect.objectContaining({ type: 'session_revoked', session_id: sessionId }),
      ]),
    })
  })

  it('answers 503 service_unavailable as data when D1 fails', async () => {
    const account = await registerUser()
    const failing = {
      prepare: () => {
        throw new Error('D1 is down')
      },
      withSession: () => failing,
      batch: () => Promise.reject(new Error('D1 is down')),
    }
    const result = await service({ ...env, DB: failing }).verifyAccessToken(account.accessToken)
    expect(result).toMatchObject({
      ok: false,
      error: { code: 'service_unavailable', status: 503, headers: { 'Retry-After': '1' } },
    })
  })
})

/**
 * The JWKS path: the set is fetched once, kept, and fetched again only for an unknown kid, so
 * these tests run in order and count the fetches the resource worker makes.
 */
describe('a resource worker verifying with the JWKS (EdDSA, ES256, a rotation)', () => {
  let edKey: PrivateJwk
  let esKey: PrivateJwk
  let edEnv: object
  let esEnv: object

  const publish = async (...appEnvs: object[]) => {
    const keys = (await Promise.all(appEnvs.map(fetchJwks))).flatMap((set) => set.keys)
    const res = await env.TEST_JWKS.fetch('https://jwks.test/', {
      method: 'PUT',
      body: JSON.stringify({ keys }),
    })
    expect(res.status).toBe(204)
  }
  const fetches = async () =>
    ((await (await env.TEST_JWKS.fetch('https://jwks.test/fetches')).json()) as { fetches: number })
      .fetches

  const offline = (token?: string) => resource('/whoami/offline', token)

  const expectAccepted = async (account: Account) => {
    const res = await offline(account.accessToken)
    expect(res.status, await res.clone().text()).toBe(200)
    expect(await res.json()).toEqual({
      user_id: account.userId,
      session_id: decodeJwt(account.accessToken).payload.sid,
    })
  }

  beforeAll(async () => {
    edKey = await generateKey('EdDSA', 'ed-1')
    esKey = await generateKey('ES256', 'es-1')
    edEnv = envWithKeys('EdDSA', [edKey])
    esEnv = envWithKeys('ES256', [esKey])
    await publish(edEnv, esEnv)
  })

  it('accepts an EdDSA and an ES256 token of a real auth app, fetching the set once', async () => {
    await expectAccepted(await registerUser({ appEnv: edEnv }))
    await expectAccepted(await registerUser({ appEnv: esEnv }))
    expect(await fetches()).toBe(1)
  })

  it('answers token_expired for a genuine token past its exp, invalid_token for one of another issuer', async () => {
    const account = await registerUser({ appEnv: edEnv })
    const header = decodeJwt(account.accessToken).header
    const expired = await forgeToken(
      header,
      accessClaims(account, { iat: nowSeconds() - 1000, exp: nowSeconds() - 100 }),
      edKey
    )
    await expectError(await offline(expired), 401, 'token_expired')
    const foreign = await forgeToken(header, accessClaims(account, { iss: 'someone-else' }), edKey)
    await expectError(await offline(foreign), 401, 'invalid_token')
  })

  it('refuses forged tokens: another key under a known kid, alg none, HS256 with the public key, a mismatched alg, an embedded jwk', async () => {
    const account = await registerUser({ appEnv: edEnv })
    const claims = accessClaims(account)
    const impostor = { ...(await generateKey('EdDSA', 'ed-1')) }
    const publicX = (await fetchJwks(edEnv)).keys[0].x as string
    const forged = [
      await forgeToken({ alg: 'EdDSA', kid: 'ed-1' }, claims, impostor),
      await forgeToken({ alg: 'none', kid: 'ed-1' }, claims),
      await forgeToken({ alg: 'HS256', kid: 'ed-1' }, claims, publicX),
      await forgeToken({ alg: 'ES256', kid: 'ed-1' }, claims, { ...esKey, kid: 'ed-1' }),
      await forgeToken({ alg: 'EdDSA', kid: 'ed-1', jwk: impostor }, claims, edKey),
    ]
    for (const token of forged) {
      const res = await offline(token)
      await expectError(res, 401, 'invalid_token')
      expect(challengeOf(res)).toContain('error="invalid_token"')
    }
    await expectError(await offline(), 401, 'missing_token')
  })

  it("still accepts a revoked session's token until it expires: what RPC verification adds", async () => {
    const account = await registerUser({ appEnv: edEnv })
    const logout = await callApp(edEnv, '/auth/logout', {
      method: 'POST',
      token: account.accessToken,
    })
    expect(logout.status).toBe(204)
    await expectError(
      await callApp(edEnv, '/me', { token: account.accessToken }),
      401,
      'token_revoked'
    )
    await expectAccepted(account)
  })

  it('follows a key rotation: a new kid fetches the set once more, the old key still verifies', async () => {
    const oldAccount = await registerUser({ appEnv: edEnv })
    const newKey = await generateKey('EdDSA', 'ed-2')
    const rotated = envWithKeys('EdDSA', [newKey, edKey])
    await publish(rotated, esEnv)
    const newAccount = await registerUser({ appEnv: rotated })
    expect(decodeJwt(newAccount.accessToken).header.kid).toBe('ed-2')

    await expectAccepted(newAccount)
    await expectAccepted(oldAccount)
    expect(await fetches()).toBe(1)
  })

  it('does not fetch again for every unknown kid: one fetch per cooldown, however many tokens', async () => {
    const account = await registerUser({ appEnv: edEnv })
    for (const kid of ['made-up-1', 'made-up-2', 'made-up-3']) {
      const token = await forgeToken({ alg: 'EdDSA', kid }, accessClaims(account), edKey)
      await expectError(await offline(token), 401, 'invalid_token')
    }
    // The rotation above fetched for its new kid moments ago: the cooldown holds every one off.
    expect(await fetches()).toBe(1)
  })
})
