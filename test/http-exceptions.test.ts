/**
 * An HTTPException from any Hono middleware renders as the contract's error, never a bare 500:
 * hono/bearer-auth, hono/csrf and hono/validator in a test app that uses the worker's onError.
 */
import { Hono } from 'hono'
import { bearerAuth } from 'hono/bearer-auth'
import { csrf } from 'hono/csrf'
import { HTTPException } from 'hono/http-exception'
import { secureHeaders } from 'hono/secure-headers'
import { validator } from 'hono/validator'
import { describe, expect, it } from 'vitest'
import type { AppEnv } from '../src/env'
import { ApiError } from '../src/http/errors'
import { handleError } from '../src/http/handle-error'
import { expectError } from './helpers/requests'

const ORIGIN = 'https://app.example.test'

const thrower = (status: number, headers?: Record<string, string>) => () => {
  throw new HTTPException(status as 400, {
    message: 'raised by a middleware',
    res: headers ? new Response(null, { status, headers }) : undefined,
  })
}

const testApp = new Hono<AppEnv>()
  .use(secureHeaders())
  .use('/bearer', bearerAuth({ token: 'the-right-token' }))
  .get('/bearer', (c) => c.json({ ok: true }))
  .use('/csrf', csrf({ origin: ORIGIN }))
  .post('/csrf', (c) => c.json({ ok: true }))
  .post(
    '/validated',
    validator('json', (value: { name?: unknown }) => {
      if (typeof value.name !== 'string') throw new HTTPException(422, { message: 'name' })
      return value
    }),
    (c) => c.json({ name: c.req.valid('json').name })
  )
  .get('/revoked', () => {
    throw new ApiError('token_revoked')
  })
  .get('/status/:status', (c) => {
    const status = Number(c.req.param('status'))
    const headers = c.req.query('retry') ? { 'Retry-After': c.req.query('retry')! } : undefined
    return thrower(status, headers)()
  })
  .onError(handleError)

const call = (path: string, init?: RequestInit) =>
  testApp.request(`https://auth.example.test${path}`, init)

describe('HTTPException from hono/bearer-auth', () => {
  it('is 401 missing_token with a challenge without an error when no token is sent', async () => {
    const res = await call('/bearer')
    await expectError(res, 401, 'missing_token')
    expect(res.headers.get('WWW-Authenticate')).toBe('Bearer realm="edge-jwt-auth"')
  })

  it('is 401 invalid_token with error="invalid_token" for a wrong token', async () => {
    const res = await call('/bearer', { headers: { Authorization: 'Bearer the-wrong-token' } })
    await expectError(res, 401, 'invalid_token')
    expect(res.headers.get('WWW-Authenticate')).toMatch(
      /^Bearer realm="edge-jwt-auth", error="invalid_token"/
    )
  })

  it("is 401 invalid_token for a malformed header (bearer-auth's own answer is 400)", async () => {
    const res = await call('/bearer', { headers: { Authorization: 'Bearer not a token' } })
    await expectError(res, 401, 'invalid_token')
    expect(res.headers.get('WWW-Authenticate')).toMatch(/error="invalid_token"/)
  })

  it('lets the right token through', async () => {
    const res = await call('/bearer', { headers: { Authorization: 'Bearer the-right-token' } })
    expect(res.status).toBe(200)
  })
})

describe('HTTPException from hono/csrf', () => {
  it('is 403 forbidden for a form post from another origin', async () => {
    const res = await call('/csrf', {
      method: 'POST',
      headers: {
        Origin: 'https://evil.example',
        'Content-Type': 'application/x-www-form-urlencoded',
      },
      body: 'a=1',
    })
    await expectError(res, 403, 'forbidden')
  })

  it('lets the allowed origin through', async () => {
    const res = await call('/csrf', {
      method: 'POST',
      headers: { Origin: ORIGIN, 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'a=1',
    })
    expect(res.status).toBe(200)
  })
})

describe('HTTPException from hono/validator', () => {
  const post = (body: string) =>
    call('/validated', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body })

  it('is 400 invalid_json for a body that is not JSON', async () => {
    await expectError(await post('{"name":'), 400, 'invalid_json')
  })

  it('is 400 validation_failed when the check throws 422', async () => {
    await expectError(await post('{"name":7}'), 400, 'validation_failed')
  })

  it('passes a valid body', async () => {
    const res = await post('{"name":"ada"}')
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ name: 'ada' })
  })
})

describe('HTTPException of any other status', () => {
  it.each([
    [403, 403, 'forbidden'],
    [404, 404, 'not_found'],
    [405, 405, 'method_not_allowed'],
    [409, 400, 'validation_failed'],
    [413, 413, 'payload_too_large'],
    [415, 415, 'unsupported_media_type'],
    [418, 400, 'validation_failed'],
    [500, 500, 'internal_error'],
    [502, 500, 'internal_error'],
  ])('%i renders as %i %s', async (thrown, status, code) => {
    const body = await expectError(await call(`/status/${thrown}`), status, code)
    expect(body.message).not.toContain('raised by a middleware')
  })

  it('429 keeps the Retry-After the middleware gave, or says 60', async () => {
    const given = await call('/status/429?retry=17')
    await expectError(given, 429, 'too_many_requests')
    expect(given.headers.get('Retry-After')).toBe('17')
    const defaulted = await call('/status/429')
    await expectError(defaulted, 429, 'too_many_requests')
    expect(defaulted.headers.get('Retry-After')).toBe('60')
  })

  it('503 is service_unavailable with Retry-After', async () => {
    const res = await call('/status/503')
    await expectError(res, 503, 'service_unavailable')
    expect(res.headers.get('Retry-After')).toBe('1')
  })

  it('401 without a token sent is missing_token with a challenge', async () => {
    const res = await call('/status/401')
    await expectError(res, 401, 'missing_token')
    expect(res.headers.get('WWW-Authenticate')).toBe('Bearer realm="edge-jwt-auth"')
  })
})

it('a token error raised without a challenge still gets one', async () => {
  const res = await call('/revoked')
  await expectError(res, 401, 'token_revoked')
  expect(res.headers.get('WWW-Authenticate')).toMatch(
    /^Bearer realm="edge-jwt-auth", error="invalid_token"/
  )
})
