/**
 * The seam that sign-in methods build on, exercised by a feature of the test's own (a second
 * factor with a fixed code): registration of its routes and error codes, its gate after the
 * password, the session it starts from a verified sign-in, and its part of a user's deletion.
 */
import { env } from 'cloudflare:test'
import { Hono } from 'hono'
import * as v from 'valibot'
import { describe, expect, it } from 'vitest'
import type { VerifiedSignIn } from '../src/auth/sign-in'
import { coreDocs } from '../src/create-auth'
import type { AppEnv } from '../src/env'
import type { AuthFeature } from '../src/feature'
import { endpoint } from '../src/http/endpoint'
import type { RouteDocs } from '../src/http/endpoint'
import { ApiError } from '../src/http/errors'
import type { ErrorCode } from '../src/http/errors'
import { IssuedTokensResponse } from '../src/http/schemas'
import { tokenResponse } from '../src/http/token-response'
import { openApiDocumentOf } from '../src/openapi/document'
import { PASSWORD, uniqueEmail } from './helpers/accounts'
import { fetchApp, testAuth } from './helpers/create-auth'
import { expectError } from './helpers/requests'
import { decodeJwt } from './helpers/tokens'

// A real feature augments FeatureErrorCodes (src/http/errors.ts) so that its code type-checks;
// an augmentation here would reach every test file's view of the client's types, so a cast.
const TEST_CODE_WRONG = 'test_code_wrong' as ErrorCode

const RIGHT_CODE = '246810'

class WrongTestCode extends Error {
  override name = 'WrongTestCode'
}

/** Pending second factors: test-only state (a real feature keeps them in D1, hashed). */
const pending = new Map<string, VerifiedSignIn>()
const deleted: string[] = []

const verifyRoutes = new Hono<AppEnv>().post(
  '/verify',
  endpoint({
    cookieMode: true,
    body: v.object({ mfa_token: v.string(), code: v.string() }),
  }),
  async (c) => {
    const { mfa_token: token, code } = c.req.valid('json')
    const first = pending.get(token)
    if (!first || code !== RIGHT_CODE) throw new WrongTestCode()
    pending.delete(token)
    const tokens = await c.var.services.sessions.start(
      { ...first, amr: [...first.amr, 'otp'], authTime: Math.floor(Date.now() / 1000) },
      { userAgent: null }
    )
    const user = await c.var.services.ports.users.findById(first.userId)
    if (!user) throw new ApiError('not_found')
    return tokenResponse(c, 200, user, tokens)
  }
)

/** The routes' docs, for the OpenAPI document (src/http/endpoint.ts). */
export const testFactorRouteDocs = {
  'POST /auth/test-factor/verify': {
    summary: 'Finish a sign-in with the test factor',
    tag: 'auth',
    success: { status: 200, description: 'A new session', body: IssuedTokensResponse },
    errors: [TEST_CODE_WRONG, 'invalid_credentials'],
  },
} satisfies RouteDocs

/** Asks for the factor from accounts whose address starts with "mfa-". */
const testFactor: AuthFeature = {
  id: 'test-factor',
  routes: [{ path: '/auth/test-factor', routes: verifyRoutes }],
  errors: { test_code_wrong: [401, 'The test code is wrong.'] },
  mapError: (error) => (error instanceof WrongTestCode ? new ApiError(TEST_CODE_WRONG) : null),
  setup: () => ({
    secondFactorGate: async (signIn, user) => {
      if (!user.email.startsWith('mfa-')) return null
      const token = crypto.randomUUID()
      pending.set(token, signIn)
      return { mfa_token: token, methods: ['test'], expires_in: 300 }
    },
    onUserDeleted: (userId) => ({
      after: async () => {
        deleted.push(userId)
      },
    }),
  }),
}

const auth = testAuth({ features: [testFactor] })
const call = (path: string, options: Parameters<typeof fetchApp>[2] = {}) =>
  fetchApp(auth.app, path, options)

const register = async (email: string) => {
  const res = await call('/auth/register', { json: { email, password: PASSWORD } })
  expect(res.status, await res.clone().text()).toBe(201)
  return (await res.json()) as { access_token: string; user: { id: string } }
}

const sessionCount = async (userId: string): Promise<number> =>
  (
    await env.DB.prepare('SELECT COUNT(*) AS n FROM sessions WHERE user_id = ?1')
      .bind(userId)
      .first<{ n: number }>()
  )?.n ?? 0

const failureCount = async (email: string): Promise<number> =>
  (
    await env.DB.prepare('SELECT failures FROM login_failures WHERE email = ?1')
      .bind(email)
      .first<{ failures: number }>()
  )?.failures ?? 0

const firstFactor = async (email: string) => {
  const res = await call('/auth/login', { json: { email, password: PASSWORD } })
  expect(res.status, await res.clone().text()).toBe(202)
  return (await res.json()) as Record<string, unknown> & { mfa_token: string }
}

describe('a feature registered with createAuth', () => {
  it('leaves a login that its gate lets through a plain password sign-in, amr ["pwd"]', async () => {
    const email = uniqueEmail()
    await register(email)
    const res = await call('/auth/login', { json: { email, password: PASSWORD } })
    expect(res.status).toBe(200)
    const { payload } = decodeJwt(((await res.json()) as { access_token: string }).access_token)
    expect(payload.amr).toEqual(['pwd'])
    expect(typeof payload.auth_time).toBe('number')
  })

  it('turns a right password into 202 mfa_required, with no session and no failure counted', async () => {
    const email = `mfa-${uniqueEmail()}`
    const { user } = await register(email)
    const before = await sessionCount(user.id)

    const body = await firstFactor(email)

    expect(body).toEqual({
      mfa_required: true,
      mfa_token: expect.any(String),
      methods: ['test'],
      expires_in: 300,
    })
    expect(await sessionCount(user.id)).toBe(before)
    expect(await failureCount(email)).toBe(0)
  })

  it('starts the session from the verified sign-in: amr ["pwd","otp"], kept by refresh', async () => {
    const email = `mfa-${uniqueEmail()}`
    await register(email)
    const { mfa_token: token } = await firstFactor(email)

    const res = await call('/auth/test-factor/verify', {
      json: { mfa_token: token, code: RIGHT_CODE },
    })

    expect(res.status, await res.clone().text()).toBe(200)
    const body = (await res.json()) as { access_token: string; refresh_token: string }
    expect(decodeJwt(body.access_token).payload.amr).toEqual(['pwd', 'otp'])
    const me = await call('/me', { token: body.access_token })
    expect(me.status).toBe(200)
    const refreshed = await call('/auth/refresh', { json: { refresh_token: body.refresh_token } })
    expect(refreshed.status).toBe(200)
    const again = (await refreshed.json()) as { access_token: string }
    expect(decodeJwt(again.access_token).payload.amr).toEqual(['pwd', 'otp'])
  })

  it("renders the feature's own error code as the contract's JSON", async () => {
    const email = `mfa-${uniqueEmail()}`
    await register(email)
    const { mfa_token: token } = await firstFactor(email)

    const res = await call('/auth/test-factor/verify', {
      json: { mfa_token: token, code: '000000' },
    })

    const body = await expectError(res, 401, 'test_code_wrong')
    expect(body.message).toBe('The test code is wrong.')
  })

  it('starts no session when the password changed between the two factors', async () => {
    const email = `mfa-${uniqueEmail()}`
    const { access_token: accessToken, user } = await register(email)
    const { mfa_token: token } = await firstFactor(email)
    const change = await call('/auth/password', {
      token: accessToken,
      json: { current_password: PASSWORD, new_password: 'another long password' },
    })
    expect(change.status).toBe(204)
    const before = await sessionCount(user.id)

    const res = await call('/auth/test-factor/verify', {
      json: { mfa_token: token, code: RIGHT_CODE },
    })

    await expectError(res, 401, 'invalid_credentials')
    expect(await sessionCount(user.id)).toBe(before)
  })

  it("runs the feature's part of a user's deletion", async () => {
    const email = uniqueEmail()
    const { access_token: accessToken, user } = await register(email)

    const res = await call('/me', {
      method: 'DELETE',
      token: accessToken,
      json: { password: PASSWORD },
    })

    expect(res.status).toBe(204)
    expect(deleted).toContain(user.id)
  })

  it('documents its routes and error codes in the OpenAPI document', () => {
    const document = openApiDocumentOf(auth.app, [coreDocs, { routes: [testFactorRouteDocs] }]) as {
      paths: Record<string, Record<string, { responses: Record<string, unknown> }>>
    }
    const verify = document.paths['/auth/test-factor/verify']?.post
    expect(verify).toBeDefined()
    expect(Object.keys(verify!.responses)).toContain('401')
  })
})
