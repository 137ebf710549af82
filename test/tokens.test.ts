/** Access tokens: what they carry, and every forged, stale or misplaced token a client might send. */
import { env } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { registerUser } from './helpers/accounts'
import type { Account } from './helpers/accounts'
import { pinClock, setClock } from './helpers/clock'
import { api, callApp, expectError } from './helpers/requests'
import { accessClaims, base64UrlEncode, decodeJwt, forgeToken } from './helpers/tokens'

const HS256 = { alg: 'HS256', typ: 'JWT' }

/** A protected route that only reads: any 401 it gives comes from the token check. */
const callMe = (token: string) => api('/me', { token })

const challengeOf = (res: Response): string => {
  const challenge = res.headers.get('WWW-Authenticate')
  expect(challenge, 'a 401 must carry WWW-Authenticate').not.toBeNull()
  return challenge!
}

/** A rejected token: the code, and an RFC 6750 challenge naming invalid_token with a description. */
const expectRejectedToken = async (res: Response, code = 'invalid_token') => {
  await expectError(res, 401, code)
  const challenge = challengeOf(res)
  expect(challenge).toMatch(/^Bearer\b/)
  expect(challenge).toContain('error="invalid_token"')
  expect(challenge).toMatch(/error_description="[^"]+"/)
}

/** No token at all: missing_token, and a challenge without an error attribute. */
const expectMissingToken = async (res: Response) => {
  await expectError(res, 401, 'missing_token')
  const challenge = challengeOf(res)
  expect(challenge).toMatch(/^Bearer\b/)
  expect(challenge).not.toMatch(/error=/)
}

const nowSeconds = () => Math.floor(Date.now() / 1000)

const withoutClaim = (account: Account, claim: string): Record<string, unknown> => {
  const claims = accessClaims(account)
  delete claims[claim]
  return claims
}

describe('issued access tokens', () => {
  it('are HS256 JWTs with iss, sub, sid, jti, iat, exp and token_use "access"', async () => {
    const before = nowSeconds()
    const account = await registerUser()
    const { header, payload } = decodeJwt(account.accessToken)
    expect(header.alg).toBe('HS256')
    expect(payload.iss).toBe(env.JWT_ISSUER)
    expect(payload.sub).toBe(account.userId)
    expect(typeof payload.sid).toBe('string')
    expect(typeof payload.jti).toBe('string')
    expect(payload.token_use).toBe('access')
    expect(payload.iat).toBeGreaterThanOrEqual(before)
    expect(payload.iat).toBeLessThanOrEqual(nowSeconds())
    expect(payload.exp).toBe((payload.iat as number) + account.tokens.expires_in)
  })

  it('carry a fresh jti each time and keep the sid across a refresh', async () => {
    const account = await registerUser()
    const res = await api('/auth/refresh', { json: { refresh_token: account.refreshToken } })
    expect(res.status).toBe(200)
    const refreshed = decodeJwt((await res.json<{ access_token: string }>()).access_token).payload
    const original = decodeJwt(account.accessToken).payload
    expect(refreshed.sid).toBe(original.sid)
    expect(refreshed.sub).toBe(original.sub)
    expect(refreshed.jti).not.toBe(original.jti)
  })

  it('name JWT_ISSUER as their aud when JWT_AUDIENCE is empty, not the built-in issuer name', async () => {
    // Another deployment's issuer than the pool's, so that "the issuer" is told from any name the
    // code could fall back to.
    const deployment = { ...env, JWT_ISSUER: 'https://auth.example.com', JWT_AUDIENCE: '' }
    const account = await registerUser({ appEnv: deployment })
    const { payload } = decodeJwt(account.accessToken)
    expect(payload.iss).toBe('https://auth.example.com')
    expect(payload.aud).toBe('https://auth.example.com')
    expect((await callApp(deployment, '/me', { token: account.accessToken })).status).toBe(200)
  })

  it('are accepted when rebuilt here with the same claims and secret (the forging helper is sound)', async () => {
    const account = await registerUser()
    expect((await callMe(await forgeToken(HS256, accessClaims(account)))).status).toBe(200)
  })
})

describe('forged and tampered access tokens are 401 invalid_token', () => {
  it('alg "none" with an empty signature', async () => {
    const account = await registerUser()
    const token = await forgeToken({ alg: 'none', typ: 'JWT' }, accessClaims(account))
    expect(token.endsWith('.')).toBe(true)
    await expectRejectedToken(await callMe(token))
  })

  it('alg "none" with the original signature kept', async () => {
    const account = await registerUser()
    const [, payload, signature] = account.accessToken.split('.')
    const header = base64UrlEncode(JSON.stringify({ alg: 'none', typ: 'JWT' }))
    await expectRejectedToken(await callMe(`${header}.${payload}.${signature}`))
  })

  it('HS512 signed with the right secret', async () => {
    const account = await registerUser()
    await expectRejectedToken(
      await callMe(await forgeToken({ alg: 'HS512', typ: 'JWT' }, accessClaims(account)))
    )
  })

  it('HS512 or HS384 in the header over an HMAC-SHA-256 signature: the pin, not the key, refuses it', async () => {
    // The key is imported for SHA-256 whatever the header says, so a header naming another HMAC
    // hash over a genuine SHA-256 signature is only refused if the algorithm is pinned to HS256.
    const account = await registerUser()
    const key = await crypto.subtle.importKey(
      'raw',
      new TextEncoder().encode(env.JWT_SECRET),
      { name: 'HMAC', hash: 'SHA-256' },
      false,
      ['sign']
    )
    for (const alg of ['HS512', 'HS384']) {
      const signingInput = `${base64UrlEncode(JSON.stringify({ alg, typ: 'JWT' }))}.${base64UrlEncode(JSON.stringify(accessClaims(account)))}`
      const signature = await crypto.subtle.sign(
        'HMAC',
        key,
        new TextEncoder().encode(signingInput)
      )
      await expectRejectedToken(
        await callMe(`${signingInput}.${base64UrlEncode(new Uint8Array(signature))}`)
      )
    }
    // The same bytes under an HS256 header pass: the signature itself is genuine.
    const signingInput = `${base64UrlEncode(JSON.stringify(HS256))}.${base64UrlEncode(JSON.stringify(accessClaims(account)))}`
    const signature = await crypto.subtle.sign('HMAC', key, new TextEncoder().encode(signingInput))
    expect(
      (await callMe(`${signingInput}.${base64UrlEncode(new Uint8Array(signature))}`)).status
    ).toBe(200)
  })

  it('a payload changed after signing (another sub, same signature)', async () => {
    const victim = await registerUser()
    const attacker = await registerUser()
    const [header, , signature] = attacker.accessToken.split('.')
    const payload = base64UrlEncode(JSON.stringify(accessClaims(attacker, { sub: victim.userId })))
    await expectRejectedToken(await callMe(`${header}.${payload}.${signature}`))
  })

  it('a signature stripped off', async () => {
    const account = await registerUser()
    const [header, payload] = account.accessToken.split('.')
    await expectRejectedToken(await callMe(`${header}.${payload}.`))
    await expectRejectedToken(await callMe(`${header}.${payload}`))
  })

  it('a signature made with another secret', async () => {
    const account = await registerUser()
    const token = await forgeToken(
      HS256,
      accessClaims(account),
      'another-secret-of-sufficient-length-000000'
    )
    await expectRejectedToken(await callMe(token))
  })

  it('a signature with one character changed', async () => {
    const account = await registerUser()
    const token = account.accessToken
    const last = token.at(-2) === 'A' ? 'B' : 'A'
    await expectRejectedToken(await callMe(`${token.slice(0, -2)}${last}${token.at(-1)}`))
  })

  it.each([
    ['three dots', 'a.b.c.d'],
    ['random text', 'not-a-jwt'],
    ['base64 that is not JSON', `${base64UrlEncode('nope')}.${base64UrlEncode('nope')}.sig`],
    [
      'a JSON payload that is not an object',
      `${base64UrlEncode(JSON.stringify(HS256))}.${base64UrlEncode('null')}.sig`,
    ],
  ])('%s', async (_, token) => {
    await expectRejectedToken(await callMe(token))
  })
})

describe('time claims', () => {
  it('an expired token with a valid signature is 401 token_expired', async () => {
    const account = await registerUser()
    const now = nowSeconds()
    const token = await forgeToken(HS256, accessClaims(account, { iat: now - 1000, exp: now - 10 }))
    await expectRejectedToken(await callMe(token), 'token_expired')
  })

  it('an expired token with a tampered signature is invalid_token, not token_expired', async () => {
    const account = await registerUser()
    const now = nowSeconds()
    const token = await forgeToken(
      HS256,
      accessClaims(account, { iat: now - 1000, exp: now - 10 }),
      'another-secret-of-sufficient-length-000000'
    )
    await expectRejectedToken(await callMe(token), 'invalid_token')
  })

  it("the worker's own token is token_expired once its exp has passed", async () => {
    const start = pinClock()
    const account = await registerUser()
    setClock(start + (account.tokens.expires_in - 1) * 1000)
    expect((await callMe(account.accessToken)).status).toBe(200)
    setClock(start + (account.tokens.expires_in + 1) * 1000)
    await expectRejectedToken(await callMe(account.accessToken), 'token_expired')
  })

  it('is token_expired at exactly its exp, not one second later (RFC 7519 §4.1.4: on or after)', async () => {
    const start = pinClock()
    const account = await registerUser()
    const { exp } = decodeJwt(account.accessToken).payload as { exp: number }
    setClock((exp - 1) * 1000)
    expect((await callMe(account.accessToken)).status).toBe(200)
    setClock(exp * 1000)
    expect(exp * 1000).toBe(start + account.tokens.expires_in * 1000)
    await expectRejectedToken(await callMe(account.accessToken), 'token_expired')
  })

  it('a token without exp is invalid_token', async () => {
    const account = await registerUser()
    await expectRejectedToken(await callMe(await forgeToken(HS256, withoutClaim(account, 'exp'))))
  })

  it('a token without iat is invalid_token', async () => {
    const account = await registerUser()
    await expectRejectedToken(await callMe(await forgeToken(HS256, withoutClaim(account, 'iat'))))
  })

  it('a token whose exp is not a number is invalid_token', async () => {
    const account = await registerUser()
    const token = await forgeToken(HS256, accessClaims(account, { exp: '9999999999' }))
    await expectRejectedToken(await callMe(token))
  })

  // JSON has no Infinity, but JSON.parse reads a number too large for a double as one: a signed
  // token with `exp: 1e999` would never expire, one with `iat` or `nbf` at -1e999 would pass the
  // time checks whatever the clock says. A time claim must be a finite number.
  it.each([
    ['exp', '1e999'],
    ['iat', '-1e999'],
    ['nbf', '-1e999'],
  ])('a token whose %s is %s (infinite once parsed) is invalid_token', async (claim, literal) => {
    const account = await registerUser()
    const text = JSON.stringify(accessClaims(account, { [claim]: 0 })).replace(
      `"${claim}":0`,
      `"${claim}":${literal}`
    )
    expect(Math.abs((JSON.parse(text) as Record<string, number>)[claim])).toBe(Infinity)
    await expectRejectedToken(await callMe(await forgeToken(HS256, text)))
  })

  it('iat more than 30 s in the future is invalid_token; 30 s is tolerated as clock skew', async () => {
    const account = await registerUser()
    const now = pinClock() / 1000
    const beyond = await forgeToken(HS256, accessClaims(account, { iat: now + 31, exp: now + 900 }))
    await expectRejectedToken(await callMe(beyond))
    const within = await forgeToken(HS256, accessClaims(account, { iat: now + 30, exp: now + 900 }))
    expect((await callMe(within)).status).toBe(200)
  })

  it('nbf more than 30 s in the future is invalid_token; 30 s is tolerated as clock skew', async () => {
    const account = await registerUser()
    const now = pinClock() / 1000
    const beyond = await forgeToken(HS256, accessClaims(account, { nbf: now + 31 }))
    await expectRejectedToken(await callMe(beyond))
    const within = await forgeToken(HS256, accessClaims(account, { nbf: now + 30 }))
    expect((await callMe(within)).status).toBe(200)
  })
})

describe("claims that make a token something other than this issuer's access token", () => {
  it('a wrong iss is invalid_token', async () => {
    const account = await registerUser()
    await expectRejectedToken(
      await callMe(await forgeToken(HS256, accessClaims(account, { iss: 'someone-else' })))
    )
  })

  it('a missing iss is invalid_token', async () => {
    const account = await registerUser()
    await expectRejectedToken(await callMe(await forgeToken(HS256, withoutClaim(account, 'iss'))))
  })

  it('a missing token_use is invalid_token', async () => {
    const account = await registerUser()
    await expectRejectedToken(
      await callMe(await forgeToken(HS256, withoutClaim(account, 'token_use')))
    )
  })

  it('token_use "refresh" is invalid_token', async () => {
    const account = await registerUser()
    const token = await forgeToken(HS256, accessClaims(account, { token_use: 'refresh' }))
    await expectRejectedToken(await callMe(token))
  })

  it('a refresh token sent as the bearer token is invalid_token', async () => {
    const account = await registerUser()
    await expectRejectedToken(await callMe(account.refreshToken))
  })
})

describe('tokens whose session or user is gone are 401 token_revoked', () => {
  it('the token of a deleted user', async () => {
    const account = await registerUser()
    const deleted = await api('/me', {
      method: 'DELETE',
      token: account.accessToken,
      json: { password: account.password },
    })
    expect(deleted.status).toBe(204)
    await expectRejectedToken(await callMe(account.accessToken), 'token_revoked')
  })

  it('an access token that would outlive its session: refused once SESSION_MAX_AGE has passed', async () => {
    // A day-long access token on a one-minute session: only the session check's own look at
    // expires_at stops the token at the session's end (and at that very second).
    const shortSessions = { ...env, SESSION_MAX_AGE: '60', ACCESS_TOKEN_TTL: '86400' }
    const start = pinClock()
    const account = await registerUser({ appEnv: shortSessions })
    expect(decodeJwt(account.accessToken).payload.exp).toBe(start / 1000 + 86_400)
    setClock(start + 59_000)
    expect((await callApp(shortSessions, '/me', { token: account.accessToken })).status).toBe(200)
    setClock(start + 60_000)
    await expectRejectedToken(
      await callApp(shortSessions, '/me', { token: account.accessToken }),
      'token_revoked'
    )
  })

  it('a validly signed token naming a session that never existed', async () => {
    const account = await registerUser()
    const token = await forgeToken(HS256, accessClaims(account, { sid: crypto.randomUUID() }))
    await expectRejectedToken(await callMe(token), 'token_revoked')
  })

  it('a validly signed token naming a real session but another user', async () => {
    const owner = await registerUser()
    const other = await registerUser()
    const token = await forgeToken(HS256, accessClaims(owner, { sub: other.userId }))
    await expectRejectedToken(await callMe(token), 'token_revoked')
  })
})

describe('the Authorization header', () => {
  it('absent: 401 missing_token with a challenge that has no error attribute', async () => {
    await expectMissingToken(await api('/me'))
    await expectMissingToken(await api('/notes'))
  })

  it('"Bearer" with nothing after it: 401 missing_token, no error attribute', async () => {
    await expectMissingToken(await api('/me', { headers: { Authorization: 'Bearer' } }))
    await expectMissingToken(await api('/me', { headers: { Authorization: 'Bearer ' } }))
  })

  it('another scheme ("Basic x"): 401 missing_token, no error attribute', async () => {
    await expectMissingToken(await api('/me', { headers: { Authorization: 'Basic x' } }))
  })

  it('"Bearer a b" (a token that is not one token68 value): 401 invalid_token', async () => {
    await expectRejectedToken(await api('/me', { headers: { Authorization: 'Bearer a b' } }))
  })

  it('the scheme name is case-insensitive (RFC 7235)', async () => {
    const account = await registerUser()
    const res = await api('/me', { headers: { Authorization: `bearer ${account.accessToken}` } })
    expect(res.status).toBe(200)
  })
})

// The worker keeps the tokens whose signature it has checked (src/auth/access-token.ts): a known
// token skips the HMAC, never the rest of the check.
describe('tokens the worker has verified before', () => {
  /** The token with its signature's first character changed (the last one may carry no bits). */
  const withForgedSignature = (token: string): string => {
    const at = token.lastIndexOf('.') + 1
    return `${token.slice(0, at)}${token[at] === 'A' ? 'B' : 'A'}${token.slice(at + 1)}`
  }

  it('a known token with another signature is invalid_token', async () => {
    const account = await registerUser()
    expect((await callMe(account.accessToken)).status).toBe(200)
    await expectRejectedToken(await callMe(withForgedSignature(account.accessToken)))
    expect((await callMe(account.accessToken)).status).toBe(200)
  })

  it('a known token is token_revoked once its session has ended', async () => {
    const account = await registerUser()
    expect((await callMe(account.accessToken)).status).toBe(200)
    const logout = await api('/auth/logout', { method: 'POST', token: account.accessToken })
    expect(logout.status).toBe(204)
    await expectRejectedToken(await callMe(account.accessToken), 'token_revoked')
  })

  it('a known token is token_expired once its exp has passed', async () => {
    const start = pinClock()
    const account = await registerUser()
    expect((await callMe(account.accessToken)).status).toBe(200)
    setClock(start + (account.tokens.expires_in + 1) * 1000)
    await expectRejectedToken(await callMe(account.accessToken), 'token_expired')
  })
})
