/** The OAuth 2.0 surface: metadata, the refresh_token grant and revocation, driven by oauth4webapi and by hand. */
import { SELF, env } from 'cloudflare:test'
import { createLocalJWKSet, jwtVerify } from 'jose'
import * as oauth from 'oauth4webapi'
import { describe, expect, it } from 'vitest'
import { registerUser } from './helpers/accounts'
import { pinClock, setClock } from './helpers/clock'
import { envWithKeys, generateKey } from './helpers/jwks'
import { BASE_URL, api, apiWithEnv, callApp, expectError } from './helpers/requests'
import { refresh } from './helpers/sessions'
import { decodeJwt } from './helpers/tokens'

const client: oauth.Client = { client_id: 'notes-app' }
const clientAuth = oauth.None()
const viaWorker = { [oauth.customFetch]: (url: string, init: RequestInit) => SELF.fetch(url, init) }

const discover = async (): Promise<oauth.AuthorizationServer> => {
  const issuer = new URL(BASE_URL)
  const res = await oauth.discoveryRequest(issuer, { ...viaWorker, algorithm: 'oauth2' })
  return oauth.processDiscoveryResponse(issuer, res)
}

const postForm = (
  path: string,
  params: Record<string, string> | string,
  headers: Record<string, string> = {}
) =>
  api(path, {
    method: 'POST',
    body: typeof params === 'string' ? params : new URLSearchParams(params).toString(),
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...headers },
  })

/** RFC 6749 §5.2: `{error, error_description}` and nothing of the JSON API's shape. */
const expectOAuthError = async (res: Response, status: number, error: string) => {
  const text = await res.text()
  expect(res.status, text).toBe(status)
  expect(res.headers.get('Content-Type')).toMatch(/^application\/json/)
  expect(res.headers.get('Cache-Control')).toBe('no-store')
  const body = JSON.parse(text)
  expect(Object.keys(body).sort()).toEqual(['error', 'error_description'])
  expect(body.error).toBe(error)
  expect(body.error_description.length).toBeGreaterThan(0)
}

describe('with oauth4webapi', () => {
  it('discovers the server from its metadata', async () => {
    const as = await discover()
    expect(as).toMatchObject({
      issuer: BASE_URL,
      token_endpoint: `${BASE_URL}/oauth/token`,
      revocation_endpoint: `${BASE_URL}/oauth/revoke`,
      jwks_uri: `${BASE_URL}/.well-known/jwks.json`,
      grant_types_supported: ['refresh_token'],
      token_endpoint_auth_methods_supported: ['none'],
    })
  })

  it('performs a refresh_token grant whose tokens work, and which kills the used refresh token', async () => {
    const account = await registerUser()
    const as = await discover()
    const res = await oauth.refreshTokenGrantRequest(
      as,
      client,
      clientAuth,
      account.refreshToken,
      viaWorker
    )
    const result = await oauth.processRefreshTokenResponse(as, client, res)
    expect(result.token_type).toBe('bearer')
    expect(result.expires_in).toBe(900)
    expect(result.refresh_token).not.toBe(account.refreshToken)
    expect(decodeJwt(result.access_token).payload.sid).toBe(
      decodeJwt(account.accessToken).payload.sid
    )
    expect((await api('/me', { token: result.access_token })).status).toBe(200)
    // Its successor is an ordinary refresh token for the JSON API too.
    expect((await refresh(result.refresh_token!)).status).toBe(200)
  })

  it('revokes a refresh token, which ends its session', async () => {
    const account = await registerUser()
    const as = await discover()
    const res = await oauth.revocationRequest(
      as,
      client,
      clientAuth,
      account.refreshToken,
      viaWorker
    )
    await oauth.processRevocationResponse(res)
    await expectError(await refresh(account.refreshToken), 401, 'invalid_refresh_token')
    await expectError(await api('/me', { token: account.accessToken }), 401, 'token_revoked')
  })

  it('reports invalid_grant for a refresh token that was revoked', async () => {
    const account = await registerUser()
    const as = await discover()
    await oauth.processRevocationResponse(
      await oauth.revocationRequest(as, client, clientAuth, account.refreshToken, viaWorker)
    )
    const res = await oauth.refreshTokenGrantRequest(
      as,
      client,
      clientAuth,
      account.refreshToken,
      viaWorker
    )
    await expect(oauth.processRefreshTokenResponse(as, client, res)).rejects.toMatchObject({
      error: 'invalid_grant',
    })
  })
})

const METADATA = '/.well-known/oauth-authorization-server'

describe('GET /.well-known/oauth-authorization-server', () => {
  it('names JWT_ISSUER as issuer whatever Host the request names, and may be cached', async () => {
    const res = await SELF.fetch(`https://login.example.org${METADATA}`)
    expect(res.status).toBe(200)
    expect(res.headers.get('Cache-Control')).toBe('public, max-age=300')
    const body = (await res.json()) as Record<string, unknown>
    expect(body.issuer).toBe(env.JWT_ISSUER)
    expect(body.token_endpoint).toBe(`${env.JWT_ISSUER}/oauth/token`)
    expect(body.jwks_uri).toBe(`${env.JWT_ISSUER}/.well-known/jwks.json`)
  })

  it('lets a standard client verify an access token against the discovered issuer and JWKS (jose, EdDSA)', async () => {
    const appEnv = envWithKeys('EdDSA', [await generateKey('EdDSA', 'k1')])
    const metadata = (await (await callApp(appEnv, METADATA)).json()) as {
      issuer: string
      jwks_uri: string
    }
    const jwks = (await (await callApp(appEnv, new URL(metadata.jwks_uri).pathname)).json()) as {
      keys: Record<string, unknown>[]
    }
    const { tokens } = await registerUser({ appEnv })

    const { payload } = await jwtVerify(tokens.access_token, createLocalJWKSet(jwks), {
      issuer: metadata.issuer,
      audience: metadata.issuer,
      algorithms: ['EdDSA'],
    })
    expect(payload.sub).toBe(tokens.user.id)
  })

  it('publishes nothing (404) while JWT_ISSUER is not an https URL; plain http only on loopback', async () => {
    const refused = [
      'edge-jwt-auth',
      'http://auth.example.com',
      'https://auth.example.com/?tenant=1',
      'https://auth.example.com/#x',
      'https://auth.example.com/',
      'ftp://auth.example.com',
    ]
    for (const issuer of refused) {
      const res = await apiWithEnv({ JWT_ISSUER: issuer }, METADATA)
      await expectError(res, 404, 'not_found')
    }
    for (const issuer of ['http://localhost:8787', 'https://auth.example.com/id']) {
      const res = await apiWithEnv({ JWT_ISSUER: issuer }, METADATA)
      expect(res.status, issuer).toBe(200)
      const body = (await res.json()) as Record<string, unknown>
      expect(body.issuer).toBe(issuer)
      expect(body.token_endpoint).toBe(`${issuer}/oauth/token`)
    }
  })
})

describe('POST /oauth/token', () => {
  it('answers RFC 6749 §5.1: the four members, no-store and no-cache', async () => {
    const account = await registerUser()
    const res = await postForm('/oauth/token', {
      grant_type: 'refresh_token',
      refresh_token: account.refreshToken,
      client_id: 'x',
    })
    expect(res.status).toBe(200)
    expect(res.headers.get('Cache-Control')).toBe('no-store')
    expect(res.headers.get('Pragma')).toBe('no-cache')
    const body = (await res.json()) as Record<string, unknown>
    expect(Object.keys(body).sort()).toEqual([
      'access_token',
      'expires_in',
      'refresh_token',
      'token_type',
    ])
    expect(body.token_type).toBe('Bearer')
  })

  it('answers invalid_request without grant_type, or without refresh_token', async () => {
    await expectOAuthError(await postForm('/oauth/token', {}), 400, 'invalid_request')
    await expectOAuthError(
      await postForm('/oauth/token', { grant_type: 'refresh_token' }),
      400,
      'invalid_request'
    )
    // An empty value counts as absent (RFC 6749 §3.1).
    await expectOAuthError(
      await postForm('/oauth/token', { grant_type: 'refresh_token', refresh_token: '' }),
      400,
      'invalid_request'
    )
  })

  it('answers invalid_request for a well-formed form under another media type, and rotates nothing', async () => {
    const account = await registerUser()
    const form = new URLSearchParams({
      grant_type: 'refresh_token',
      refresh_token: account.refreshToken,
    }).toString()
    // text/plain is what a cross-site HTML form can send without a CORS preflight.
    for (const contentType of ['text/plain', 'application/json', 'multipart/form-data']) {
      const res = await api('/oauth/token', {
        method: 'POST',
        body: form,
        headers: { 'Content-Type': contentType },
      })
      await expectOAuthError(res, 400, 'invalid_request')
    }
    // The refresh token was never used: it still rotates once.
    expect((await refresh(account.refreshToken)).status).toBe(200)
  })

  it('answers unsupported_grant_type for any grant but refresh_token', async () => {
    for (const grantType of ['password', 'authorization_code', 'client_credentials']) {
      await expectOAuthError(
        await postForm('/oauth/token', { grant_type: grantType, username: 'a', password: 'b' }),
        400,
        'unsupported_grant_type'
      )
    }
  })

  it('answers invalid_grant for an unknown or malformed refresh token', async () => {
    for (const token of ['A'.repeat(43), 'not-a-token', 'x'.repeat(5000)]) {
      await expectOAuthError(
        await postForm('/oauth/token', { grant_type: 'refresh_token', refresh_token: token }),
        400,
        'invalid_grant'
      )
    }
  })

  it('answers invalid_request for a repeated parameter', async () => {
    const account = await registerUser()
    const body = `grant_type=refresh_token&refresh_token=${account.refreshToken}&refresh_token=${account.refreshToken}`
    await expectOAuthError(await postForm('/oauth/token', body), 400, 'invalid_request')
    // Nothing was used up.
    expect((await refresh(account.refreshToken)).status).toBe(200)
  })

  it('answers invalid_request for a JSON body', async () => {
    const account = await registerUser()
    const res = await api('/oauth/token', {
      json: { grant_type: 'refresh_token', refresh_token: account.refreshToken },
    })
    await expectOAuthError(res, 400, 'invalid_request')
  })

  it('answers 401 invalid_client with a matching challenge when the client tries to authenticate', async () => {
    const account = await registerUser()
    const form = { grant_type: 'refresh_token', refresh_token: account.refreshToken }
    const basic = await postForm('/oauth/token', form, {
      Authorization: `Basic ${btoa('app:secret')}`,
    })
    expect(basic.headers.get('WWW-Authenticate')).toBe('Basic realm="edge-jwt-auth"')
    await expectOAuthError(basic, 401, 'invalid_client')
    await expectOAuthError(
      await postForm('/oauth/token', { ...form, client_secret: 's' }),
      401,
      'invalid_client'
    )
    expect((await refresh(account.refreshToken)).status).toBe(200)
  })

  it('answers 413 payload_too_large for a body over 16 KiB', async () => {
    const res = await postForm('/oauth/token', {
      grant_type: 'refresh_token',
      refresh_token: 'a'.repeat(17 * 1024),
    })
    await expectError(res, 413, 'payload_too_large')
  })

  it('follows the reuse rules of /auth/refresh: same successor within grace, session ended after it', async () => {
    const start = pinClock()
    const account = await registerUser()
    const grant = { grant_type: 'refresh_token', refresh_token: account.refreshToken }
    const first = (await (await postForm('/oauth/token', grant)).json()) as Record<string, string>

    setClock(start + 5_000)
    const racing = (await (await postForm('/oauth/token', grant)).json()) as Record<string, string>
    expect(racing.refresh_token).toBe(first.refresh_token)

    setClock(start + 11_000)
    await expectOAuthError(await postForm('/oauth/token', grant), 400, 'invalid_grant')
    await expectError(await api('/me', { token: first.access_token }), 401, 'token_revoked')
    await expectError(await refresh(first.refresh_token), 401, 'invalid_refresh_token')
  })
})

describe('POST /oauth/revoke', () => {
  it('answers 200 for unknown, malformed and already revoked tokens', async () => {
    for (const token of ['A'.repeat(43), 'garbage', 'a.b.c']) {
      const res = await postForm('/oauth/revoke', { token })
      expect(res.status, await res.text()).toBe(200)
    }
  })

  it('answers invalid_request without a token', async () => {
    await expectOAuthError(
      await postForm('/oauth/revoke', { token_type_hint: 'refresh_token' }),
      400,
      'invalid_request'
    )
  })

  it('ends the session of an access token, whatever the hint says', async () => {
    const account = await registerUser()
    const res = await postForm('/oauth/revoke', {
      token: account.accessToken,
      token_type_hint: 'refresh_token',
    })
    expect(res.status).toBe(200)
    await expectError(await api('/me', { token: account.accessToken }), 401, 'token_revoked')
    await expectError(await refresh(account.refreshToken), 401, 'invalid_refresh_token')
  })

  it('ends the session of an access token whose header alone is longer than a refresh token', async () => {
    // EdDSA tokens carry a kid: their header part is 52 base64url characters before the first
    // dot, so a refresh-token pattern that stops after 43 characters would take them for one.
    const appEnv = envWithKeys('EdDSA', [await generateKey('EdDSA', 'k1')])
    const { tokens } = await registerUser({ appEnv })
    expect(tokens.access_token.indexOf('.')).toBeGreaterThan(43)
    const res = await callApp(appEnv, '/oauth/revoke', {
      method: 'POST',
      body: new URLSearchParams({ token: tokens.access_token }).toString(),
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    })
    expect(res.status).toBe(200)
    await expectError(
      await callApp(appEnv, '/me', { token: tokens.access_token }),
      401,
      'token_revoked'
    )
  })

  // Only a valid access token names a session to end; the session check of /me would refuse
  // this token anyway, so the verifier's own `exp` test is what this observes.
  it('leaves the session alone for an access token at exactly its exp', async () => {
    pinClock()
    const account = await registerUser()
    const { exp } = decodeJwt(account.accessToken).payload as { exp: number }
    setClock(exp * 1000)
    expect((await postForm('/oauth/revoke', { token: account.accessToken })).status).toBe(200)
    expect((await refresh(account.refreshToken)).status).toBe(200)
  })

  it('leaves other sessions of the user alone', async () => {
    const account = await registerUser()
    const other = await api('/auth/login', {
      json: { email: account.email, password: account.password },
    })
    const otherTokens = (await other.json()) as { access_token: string }
    expect((await postForm('/oauth/revoke', { token: account.refreshToken })).status).toBe(200)
    expect((await api('/me', { token: otherTokens.access_token })).status).toBe(200)
  })
})
