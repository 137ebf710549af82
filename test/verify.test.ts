/**
 * edge-jwt-auth/verify in the test's own isolate, where its clock can be pinned and its JWK set
 * source made to fail: the cache's lifetime, the refetch cooldown running out, stale keys kept
 * through an outage, the 503s, and the route requirements. The keys come from a real auth app.
 */
import { env } from 'cloudflare:test'
import { Hono } from 'hono'
import { describe, expect, it } from 'vitest'
import { accessVerifier } from '../src/verify'
import type { AccessTokenService } from '../src/verify'
import { registerUser } from './helpers/accounts'
import { advanceClock, pinClock } from './helpers/clock'
import { envWithKeys, generateKey } from './helpers/jwks'
import { callApp, expectError } from './helpers/requests'
import { accessClaims, forgeToken } from './helpers/tokens'

const ISSUER = env.JWT_ISSUER

/** A JWK set source backed by an auth app, that counts its fetches and can be made to fail. */
const jwksSource = (appEnv: object) => {
  const source = {
    fetches: 0,
    failing: false,
    fetch: async (_url: string) => {
      source.fetches++
      if (source.failing) return new Response('down', { status: 502 })
      return callApp(appEnv, '/.well-known/jwks.json')
    },
  }
  return source
}

const appWithKeys = (source: ReturnType<typeof jwksSource>) => {
  const verify = accessVerifier({
    jwks: { url: 'https://auth.example.test/.well-known/jwks.json', fetcher: () => source },
    issuer: ISSUER,
  })
  return new Hono()
    .get('/read', verify(), (c) => c.json({ sub: c.var.auth.userId }, 200))
    .get('/otp-only', verify({ amr: ['otp'] }), (c) => c.json({ ok: true }, 200))
}

interface RequestsApp {
  request(path: string, init: RequestInit): Response | Promise<Response>
}

const get = (app: RequestsApp, path: string, token?: string) =>
  app.request(path, { headers: token ? { Authorization: `Bearer ${token}` } : {} })

describe('the JWKS verifier', () => {
  it('keeps the set for cacheSeconds, then fetches it again', async () => {
    const appEnv = envWithKeys('EdDSA', [await generateKey('EdDSA', 'k1')])
    const source = jwksSource(appEnv)
    const app = appWithKeys(source)
    const account = await registerUser({ appEnv })
    pinClock()
    expect((await get(app, '/read', account.accessToken)).status).toBe(200)
    advanceClock(299)
    expect((await get(app, '/read', account.accessToken)).status).toBe(200)
    expect(source.fetches).toBe(1)
    advanceClock(1)
    expect((await get(app, '/read', account.accessToken)).status).toBe(200)
    expect(source.fetches).toBe(2)
  })

  it('fetches again for an unknown kid once the cooldown has passed, not before', async () => {
    const key = await generateKey('EdDSA', 'k1')
    const appEnv = envWithKeys('EdDSA', [key])
    const source = jwksSource(appEnv)
    const app = appWithKeys(source)
    const account = await registerUser({ appEnv })
    const unknown = await forgeToken({ alg: 'EdDSA', kid: 'k9' }, accessClaims(account), key)
    pinClock()
    expect((await get(app, '/read', account.accessToken)).status).toBe(200)
    await expectError(await get(app, '/read', unknown), 401, 'invalid_token')
    await expectError(await get(app, '/read', unknown), 401, 'invalid_token')
    expect(source.fetches).toBe(2)
    advanceClock(30)
    await expectError(await get(app, '/read', unknown), 401, 'invalid_token')
    expect(source.fetches).toBe(3)
  })

  it('keeps verifying with the keys it holds while the set cannot be fetched', async () => {
    const appEnv = envWithKeys('ES256', [await generateKey('ES256', 'k1')])
    const source = jwksSource(appEnv)
    const app = appWithKeys(source)
    const account = await registerUser({ appEnv })
    pinClock()
    expect((await get(app, '/read', account.accessToken)).status).toBe(200)
    source.failing = true
    advanceClock(301)
    expect((await get(app, '/read', account.accessToken)).status).toBe(200)
    expect(source.fetches).toBe(2)
  })

  it('answers 503 service_unavailable when it holds no keys and cannot fetch them', async () => {
    const appEnv = envWithKeys('EdDSA', [await generateKey('EdDSA', 'k1')])
    const source = jwksSource(appEnv)
    source.failing = true
    const account = await registerUser({ appEnv })
    const res = await get(appWithKeys(source), '/read', account.accessToken)
    await expectError(res, 503, 'service_unavailable')
    expect(res.headers.get('Retry-After')).toBe('1')
  })

  it('answers 503 for a JWK set over 64 KiB or of the wrong shape', async () => {
    const appEnv = envWithKeys('EdDSA', [await generateKey('EdDSA', 'k1')])
    const account = await registerUser({ appEnv })
    for (const body of [JSON.stringify({ keys: [], pad: 'x'.repeat(64 * 1024) }), '[]', 'nope']) {
      const verify = accessVerifier({
        jwks: {
          url: 'https://a.test/jwks',
          fetcher: () => ({ fetch: async () => new Response(body) }),
        },
        issuer: ISSUER,
      })
      const app = new Hono().get('/read', verify(), (c) => c.body(null, 204))
      await expectError(await get(app, '/read', account.accessToken), 503, 'service_unavailable')
    }
  })

  it('refuses a sign-in that lacks a method the route demands', async () => {
    const appEnv = envWithKeys('EdDSA', [await generateKey('EdDSA', 'k1')])
    const account = await registerUser({ appEnv })
    const res = await get(appWithKeys(jwksSource(appEnv)), '/otp-only', account.accessToken)
    await expectError(res, 401, 'reauthentication_required')
    expect(res.headers.get('WWW-Authenticate')).toContain(
      'Bearer error="insufficient_user_authentication"'
    )
  })

  it('refuses route requirements that are not what they must be, when the route is declared', () => {
    const verify = accessVerifier({ jwks: { url: 'https://a.test/jwks' }, issuer: ISSUER })
    expect(() => verify({ maxAge: -1 })).toThrow(TypeError)
    expect(() => verify({ maxAge: 1.5 })).toThrow(TypeError)
    expect(() => verify({ amr: 'otp' as never })).toThrow(TypeError)
  })
})

describe('the RPC verifier', () => {
  const appWithService = (service: AccessTokenService) => {
    const verify = accessVerifier({ service: () => service })
    return new Hono().get('/read', verify(), (c) =>
      c.json({ sub: c.var.auth.userId, email: c.var.user.email }, 200)
    )
  }

  it('answers 503 service_unavailable when the Service Binding call throws', async () => {
    const account = await registerUser()
    const app = appWithService({
      verifyAccessToken: () => Promise.reject(new Error('binding missing')),
    })
    const res = await get(app, '/read', account.accessToken)
    await expectError(res, 503, 'service_unavailable')
  })

  it("passes the worker's refusal on with its status, code and challenge", async () => {
    const account = await registerUser()
    const challenge = 'Bearer realm="edge-jwt-auth", error="invalid_token", error_description="x"'
    const app = appWithService({
      verifyAccessToken: async () => ({
        ok: false,
        error: {
          code: 'token_revoked',
          message: 'The session of this access token has ended.',
          status: 401,
          headers: { 'WWW-Authenticate': challenge },
        },
      }),
    })
    const res = await get(app, '/read', account.accessToken)
    await expectError(res, 401, 'token_revoked')
    expect(res.headers.get('WWW-Authenticate')).toBe(challenge)
  })
})
