/**
 * What a request may cost: every header the worker reads, sent at the largest size Cloudflare's
 * edge lets through and beyond it, is answered with the contract's error, and no regular
 * expression ever runs over it. The work is counted (the longest string any RegExp was run on),
 * not timed: before this rule, `Bearer x` + 32 KiB of spaces + `y` cost 0.9 s of CPU.
 */
import { env } from 'cloudflare:test'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { MAX_TOKEN_LENGTH } from '../src/auth/access-token'
import { bearerToken } from '../src/http/bearer'
import { readTokenCookies } from '../src/http/cookies'
import { registerUser } from './helpers/accounts'
import { BASE_URL, api, callAppWith, expectError } from './helpers/requests'

/**
 * Cloudflare documents 16 KB per request header and 32 KB for all of them; the review that found
 * the quadratic pattern sent 64 KiB through wrangler dev. Every header here is 64 KiB.
 */
const HUGE = 64 * 1024
/** The longest input a pattern may see: a token's limit (the tokens' own shape checks run on it). */
const LONGEST_MATCHED = MAX_TOKEN_LENGTH

let longestMatched = 0
let matches = 0

beforeEach(() => {
  longestMatched = 0
  matches = 0
  const { exec } = RegExp.prototype as { exec: (this: RegExp, input: string) => unknown }
  // test(), match(), replace() and split() all reach exec once it is replaced (ECMA-262 RegExpExec).
  vi.spyOn(RegExp.prototype, 'exec').mockImplementation(function (this: RegExp, input: string) {
    matches++
    longestMatched = Math.max(longestMatched, input.length)
    return exec.call(this, input) as RegExpExecArray | null
  })
})

afterEach(() => {
  // The spy saw the router's own matching: a test that counted nothing would prove nothing.
  expect(matches).toBeGreaterThan(0)
  expect(longestMatched).toBeLessThanOrEqual(LONGEST_MATCHED)
})

const spaces = ' '.repeat(HUGE)

describe('Authorization', () => {
  it('Bearer, a long run of spaces and a token is refused as invalid_token without a match', async () => {
    const res = await api('/me', { headers: { Authorization: `Bearer x${spaces}y` } })
    await expectError(res, 401, 'invalid_token')
    expect(res.headers.get('WWW-Authenticate')).toMatch(/^Bearer .*error="invalid_token"/)
  })

  it('a 64 KiB token is refused as invalid_token', async () => {
    const res = await api('/me', { token: 'a'.repeat(HUGE) })
    await expectError(res, 401, 'invalid_token')
  })

  it('a header of spaces after the scheme is a missing token (the runtime trims them), unmatched', async () => {
    await expectError(
      await api('/me', { headers: { Authorization: `Bearer${spaces}` } }),
      401,
      'missing_token'
    )
  })

  it('a long header in another scheme on /oauth/revoke is refused like any client credential', async () => {
    const res = await api('/oauth/revoke', {
      method: 'POST',
      body: 'token=x',
      headers: {
        'Content-Type': 'application/x-www-form-urlencoded',
        Authorization: `Basic${spaces}x`,
      },
    })
    expect(res.status).toBe(401)
    expect((await res.json()) as { error: string }).toMatchObject({ error: 'invalid_client' })
  })
})

describe('Cookie', () => {
  it('an access cookie over 8 KiB is invalid_token, refused for its length before any decoding', async () => {
    // Shaped like a JWS (a header part, then dots): without the length bound its 64 KiB header
    // part would be decoded and matched. With no dot (as this test had it) the header part is
    // empty, and the token is refused as malformed without the bound too.
    const res = await api('/me', {
      headers: { Cookie: `__Host-access_token=${'a'.repeat(HUGE)}.e30.c2ln` },
    })
    await expectError(res, 401, 'invalid_token')
    // afterEach: no pattern ran on more than MAX_TOKEN_LENGTH characters of it.
  })

  it('64 KiB of cookie pairs before ours is scanned once and our cookie still found', async () => {
    const { accessToken } = await registerUser()
    const filler = 'a=b; '.repeat(HUGE / 5)
    const res = await api('/me', {
      headers: { Cookie: `${filler}__Host-access_token=${accessToken}` },
    })
    expect(res.status, await res.clone().text()).toBe(200)
  })

  it('64 KiB of separators with no pair at all is a missing token', async () => {
    const res = await api('/me', { headers: { Cookie: `${';'.repeat(HUGE)}=` } })
    await expectError(res, 401, 'missing_token')
  })
})

describe('the other headers the worker reads', () => {
  it('a 64 KiB Origin on a cookie-mode POST is refused as forbidden', async () => {
    const res = await api('/auth/logout', {
      method: 'POST',
      headers: { Cookie: '__Host-access_token=x', Origin: `https://${'a'.repeat(HUGE)}.test` },
    })
    await expectError(res, 403, 'forbidden')
  })

  it('a 64 KiB Sec-Fetch-Site or X-Auth-Mode changes nothing', async () => {
    const res = await api('/me', {
      headers: { 'Sec-Fetch-Site': `cross-site${spaces}x`, 'X-Auth-Mode': `cookie${spaces}x` },
    })
    await expectError(res, 401, 'missing_token')
  })

  it('a 64 KiB X-Device-Token on login costs no parse of it', async () => {
    const res = await api('/auth/login', {
      json: { email: 'nobody@example.com', password: 'not the password' },
      headers: { 'X-Device-Token': 'a'.repeat(HUGE) },
    })
    await expectError(res, 401, 'invalid_credentials')
  })

  it('a 64 KiB Content-Type is unsupported_media_type, unmatched', async () => {
    const res = await api('/auth/login', {
      method: 'POST',
      body: '{}',
      headers: { 'Content-Type': `application/json${spaces};x` },
    })
    await expectError(res, 415, 'unsupported_media_type')
  })

  it('a 64 KiB Content-Type on the OAuth token endpoint is invalid_request, unmatched', async () => {
    const res = await api('/oauth/token', {
      method: 'POST',
      body: 'grant_type=refresh_token',
      headers: { 'Content-Type': `application/x-www-form-urlencoded${spaces};x` },
    })
    expect(res.status).toBe(400)
    expect((await res.json()) as { error: string }).toMatchObject({ error: 'invalid_request' })
  })

  it('a 64 KiB Content-Length of digits is payload_too_large', async () => {
    const request = new Request(`${BASE_URL}/auth/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'Content-Length': '9'.repeat(HUGE) },
      body: '{}',
    })
    const res = await callAppWith(env, request)
    // The runtime may replace a Content-Length it knows to be wrong; either way no 5xx.
    expect([400, 401, 413]).toContain(res.status)
  })

  it('a 64 KiB CF-Connecting-IP reaches the rate limiter as a bounded key, never a 5xx', async () => {
    const keys: string[] = []
    const limiter = {
      limit: async ({ key }: { key: string }) => {
        keys.push(key)
        return { success: true }
      },
    }
    for (const ip of [`${'1:'.repeat(HUGE / 2)}:1`, '9'.repeat(HUGE)]) {
      const request = new Request(`${BASE_URL}/auth/refresh`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'CF-Connecting-IP': ip },
        body: '{}',
      })
      const res = await callAppWith(
        { ...env, CLIENT_RATE_LIMIT_MODE: 'required', CLIENT_RATE_LIMIT: limiter },
        request
      )
      await expectError(res, 400, 'validation_failed')
    }
    expect(keys).toHaveLength(2)
  })
})

describe('the parsers themselves', () => {
  it('bearerToken reads the scheme case-insensitively and trims spaces only', () => {
    expect(bearerToken('Bearer abc')).toBe('abc')
    expect(bearerToken('bearer   abc  ')).toBe('abc')
    expect(bearerToken('BEARER a b')).toBe('a b')
    expect(bearerToken('Bearer')).toBeNull()
    expect(bearerToken('Bearer    ')).toBeNull()
    expect(bearerToken('Bearerabc')).toBeNull()
    expect(bearerToken('Bearer\tabc')).toBeNull()
    expect(bearerToken('Basic abc')).toBeNull()
    expect(bearerToken(undefined)).toBeNull()
    expect(bearerToken(`Bearer ${'a'.repeat(MAX_TOKEN_LENGTH - 7)}`)).toHaveLength(
      MAX_TOKEN_LENGTH - 7
    )
    expect(() => bearerToken(`Bearer ${'a'.repeat(MAX_TOKEN_LENGTH)}`)).toThrow(/too long/)
  })

  it('readTokenCookies takes the first pair of each name, trimmed and unquoted', () => {
    expect(
      readTokenCookies(
        ' __Host-access_token = "one" ;__Host-access_token=two; x=y;__Host-refresh_token=r'
      )
    ).toEqual({ access: 'one', refresh: 'r' })
    expect(readTokenCookies('__Host-access_token=; other=1')).toEqual({})
    expect(readTokenCookies(undefined)).toEqual({})
    expect(readTokenCookies('__Host-access_token')).toEqual({})
  })
})
