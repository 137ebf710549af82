/**
 * Sign-in with an identity provider: the code flow from start to exchange against a provider whose
 * HTTP is intercepted (real keys, real signed ID tokens), and every attack on it built for real:
 * replayed and foreign states, forged, confused and mis-addressed ID tokens, replayed and expired
 * login codes, open redirects.
 */
import { createExecutionContext, env, waitOnExecutionContext } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { app as defaultWorker } from '../src/index'
import { oidcOptionsFromEnv } from '../src/sign-in/oidc/config'
import { uniqueEmail } from './helpers/accounts'
import { advanceClock, pinClock } from './helpers/clock'
import { parseSetCookie } from './helpers/cookies'
import { generateProviderKey, signJwt, startTestProvider } from './helpers/identity-provider'
import {
  OIDC_COOKIE,
  call,
  callback,
  countRows,
  eventsOf,
  exchange,
  expectLoginError,
  fragmentOf,
  oidcAuth,
  signInAtProvider,
  signInThroughProvider,
  start,
  apiWithOidcEnv,
  uniqueIssuer,
  withProvider,
} from './helpers/oidc'
import { buildRequest, expectError } from './helpers/requests'
import { base64UrlEncode, decodeJwt } from './helpers/tokens'

const usersWithEmail = (email: string) =>
  countRows('SELECT COUNT(*) AS n FROM users WHERE email = ?1', email)

describe('GET /auth/oidc/:provider/start', () => {
  it('sends the browser to the provider with code, state, nonce and PKCE S256, binding the state to a __Host-oidc cookie', async () => {
    const { provider, auth } = await withProvider()
    const res = await call(auth, '/auth/oidc/test/start?return_to=%2Fnotes')

    expect(res.status).toBe(302)
    const url = new URL(res.headers.get('Location') ?? '')
    expect(`${url.origin}${url.pathname}`).toBe(`${provider.issuer}/authorize`)
    const params = Object.fromEntries(url.searchParams)
    expect(params).toEqual({
      response_type: 'code',
      client_id: provider.clientId,
      redirect_uri: 'https://auth.example.test/auth/oidc/test/callback',
      scope: 'openid email profile',
      state: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      nonce: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      code_challenge: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      code_challenge_method: 'S256',
    })
    const cookie = parseSetCookie(
      res.headers.getSetCookie().find((header) => header.startsWith(OIDC_COOKIE)) ?? ''
    )
    expect(cookie.value).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(cookie.attributes).toMatchObject({
      httponly: '',
      secure: '',
      samesite: 'Lax',
      path: '/',
      'max-age': '600',
    })
    expect(cookie.attributes.domain).toBeUndefined()
    // D1 holds hashes only: neither the state nor the browser secret is stored as sent.
    const row = await env.DB.prepare(
      'SELECT * FROM oidc_states ORDER BY created_at DESC LIMIT 1'
    ).first()
    expect(row?.return_to).toBe('/notes')
    expect(JSON.stringify(row)).not.toContain(params.state)
    expect(JSON.stringify(row)).not.toContain(cookie.value)
  })

  it.each([
    ['//evil.example'],
    ['https://evil.example/'],
    ['/\\evil.example'],
    ['\\\\evil.example'],
    ['/ok\\..\\evil'],
    ['evil.example'],
    ['/#x'],
    ['/a b'],
  ])('refuses return_to %j with 400 validation_failed', async (returnTo) => {
    const { auth } = await withProvider()
    const res = await call(auth, `/auth/oidc/test/start?return_to=${encodeURIComponent(returnTo)}`)
    const body = await expectError(res, 400, 'validation_failed')
    expect(body.details).toHaveProperty('return_to')
    expect(res.headers.getSetCookie()).toEqual([])
  })

  it('answers 404 not_found for a provider that is not configured', async () => {
    const { auth } = await withProvider()
    await expectError(await call(auth, '/auth/oidc/nope/start'), 404, 'not_found')
  })

  it('sends the browser back with provider_error when the discovery document names another issuer', async () => {
    const { provider, auth } = await withProvider()
    provider.discovery.issuer = 'https://someone-else.example.test'
    expectLoginError(await call(auth, '/auth/oidc/test/start'), 'provider_error')
  })

  it.each([
    ['an http token endpoint for an https issuer', { token_endpoint: 'http://127.0.0.1:9/token' }],
    [
      'client authentication methods that are not a list',
      { token_endpoint_auth_methods_supported: 'client_secret_basic' },
    ],
  ])(
    'sends the browser back with provider_error for a discovery document with %s',
    async (_name, change) => {
      const { provider, auth } = await withProvider()
      Object.assign(provider.discovery, change)
      expectLoginError(await call(auth, '/auth/oidc/test/start'), 'provider_error')
    }
  )

  it('reads at most 64 KiB of a provider answer, counted in bytes', async () => {
    const { provider, auth } = await withProvider()
    // 30 000 three-byte characters: 90 000 bytes in fewer than 64 Ki UTF-16 units.
    provider.discovery.padding = '\u20ac'.repeat(30_000)
    expectLoginError(await call(auth, '/auth/oidc/test/start'), 'provider_error')
  })

  it('sets no cookie on the answer to a cross-site request', async () => {
    const { auth } = await withProvider()
    const res = await call(auth, '/auth/oidc/test/start', {
      headers: { 'Sec-Fetch-Site': 'cross-site' },
    })
    expect(res.status).toBe(302)
    expect(res.headers.getSetCookie()).toEqual([])
  })
})

describe('a sign-in through the provider', () => {
  it('creates an account without a password and trades the login code for a session with amr ["fed"]', async () => {
    const { provider, auth } = await withProvider()
    const email = uniqueEmail()
    const res = await signInAtProvider(
      auth,
      provider,
      { claims: { sub: 'alice', email, email_verified: true } },
      '/notes?x=1'
    )
    const fragment = fragmentOf(res)
    expect(fragment).toEqual({ path: '/notes?x=1', name: 'login', value: expect.any(String) })
    // The code is in the fragment, and the page it lands on leaks no Referer.
    expect(res.headers.get('Referrer-Policy')).toBe('no-referrer')
    // A redirect the browser follows carries the document headers too.
    expect(res.headers.get('Cross-Origin-Opener-Policy')).toBe('same-origin')
    expect(res.headers.get('Cache-Control')).toBe('no-store')
    expect(fragment.value).toMatch(/^[A-Za-z0-9_-]{43}$/)
    // The code is kept only as its hash.
    expect(
      await countRows(
        'SELECT COUNT(*) AS n FROM oidc_login_codes WHERE code_hash = ?1',
        fragment.value
      )
    ).toBe(0)

    const tokens = await exchange(auth, fragment.value)
    expect(tokens.status).toBe(200)
    expect(tokens.headers.get('Cache-Control')).toBe('no-store')
    const body = (await tokens.json()) as {
      access_token: string
      user: { id: string; email: string; email_verified: boolean }
    }
    expect(body.user).toMatchObject({ email, email_verified: true })
    const { payload } = decodeJwt(body.access_token)
    expect(payload.amr).toEqual(['fed'])
    expect(payload.sub).toBe(body.user.id)
    const user = await env.DB.prepare('SELECT password_hash FROM users WHERE id = ?1')
      .bind(body.user.id)
      .first<{ password_hash: string }>()
    expect(user?.password_hash).toBe('')
    const sessions = await call(auth, '/auth/sessions', { token: body.access_token })
    expect(((await sessions.json()) as { sessions: unknown[] }).sessions).toHaveLength(1)
    expect(await eventsOf(body.user.id)).toEqual([
      { type: 'identity_linked', method: null, session_id: null },
      { type: 'login', method: 'fed', session_id: payload.sid },
    ])

    const identities = await call(auth, '/auth/identities', { token: body.access_token })
    expect(await identities.json()).toEqual({
      identities: [
        { id: expect.any(String), provider: 'test', email, created_at: expect.any(String) },
      ],
    })
  })

  it('signs the same identity into the same account the next time', async () => {
    const { provider, auth } = await withProvider()
    const email = uniqueEmail()
    const login = { claims: { sub: 'bob', email, email_verified: true } }
    const first = await signInThroughProvider(auth, provider, login)
    const second = await signInThroughProvider(auth, provider, login)
    expect(second.user.id).toBe(first.user.id)
    expect(await usersWithEmail(email)).toBe(1)
  })

  it('works with an ES256 provider', async () => {
    const { provider, auth } = await withProvider({ alg: 'ES256' })
    const body = await signInThroughProvider(auth, provider, {
      claims: { sub: 'es', email: uniqueEmail(), email_verified: true },
    })
    expect(decodeJwt(body.access_token).payload.amr).toEqual(['fed'])
  })

  it('sets the token cookies at the exchange in cookie mode, with no tokens in the body', async () => {
    const { provider, auth } = await withProvider()
    const fragment = fragmentOf(
      await signInAtProvider(auth, provider, {
        claims: { sub: 'carol', email: uniqueEmail(), email_verified: true },
      })
    )
    const res = await exchange(auth, fragment.value, {
      'X-Auth-Mode': 'cookie',
      Origin: 'https://auth.example.test',
    })
    expect(res.status).toBe(200)
    const body = (await res.json()) as Record<string, unknown>
    expect(body.auth_mode).toBe('cookie')
    expect(body).not.toHaveProperty('access_token')
    expect(body).not.toHaveProperty('refresh_token')
    const names = res.headers.getSetCookie().map((header) => header.split('=')[0])
    expect(names).toEqual(expect.arrayContaining(['__Host-access_token', '__Host-refresh_token']))
  })

  it('refetches the JWKS once when the provider rotated its key', async () => {
    const { provider, auth } = await withProvider()
    await signInThroughProvider(auth, provider, {
      claims: { sub: 'dave', email: uniqueEmail(), email_verified: true },
    })
    await provider.rotate('key-2')
    await signInThroughProvider(auth, provider, {
      claims: { sub: 'dave', email: uniqueEmail(), email_verified: true },
    })
    const jwksFetches = provider.fetched.filter((url) => url.endsWith('/jwks'))
    expect(jwksFetches).toHaveLength(2)
    // The discovery document was fetched once and cached.
    expect(provider.fetched.filter((url) => url.endsWith('/openid-configuration'))).toHaveLength(1)
  })
})

describe('the callback refuses', () => {
  it('a replayed callback: the state is single use', async () => {
    const { provider, auth } = await withProvider()
    const begun = await start(auth)
    const back = await provider.authorize(begun.location, {
      claims: { email: uniqueEmail(), email_verified: true },
    })
    expect(fragmentOf(await callback(auth, back, begun.secret)).name).toBe('login')
    const codesBefore = await countRows('SELECT COUNT(*) AS n FROM oidc_login_codes')
    expectLoginError(await callback(auth, back, begun.secret), 'invalid_state')
    expect(await countRows('SELECT COUNT(*) AS n FROM oidc_login_codes')).toBe(codesBefore)
  })

  it("a state from another browser (the attacker's own cookie tossed in), and leaves the victim's state usable", async () => {
    const { provider, auth } = await withProvider()
    const victim = await start(auth)
    const attacker = await start(auth)
    const back = await provider.authorize(victim.location, {
      claims: { email: uniqueEmail(), email_verified: true },
    })
    expectLoginError(await callback(auth, back, attacker.secret), 'invalid_state')
    expect(fragmentOf(await callback(auth, back, victim.secret)).name).toBe('login')
  })

  it('a callback without the cookie', async () => {
    const { provider, auth } = await withProvider()
    const begun = await start(auth)
    const back = await provider.authorize(begun.location)
    expectLoginError(await callback(auth, back, null), 'invalid_state')
  })

  it('a tampered state', async () => {
    const { provider, auth } = await withProvider()
    const begun = await start(auth)
    const back = await provider.authorize(begun.location)
    const state = back.searchParams.get('state') ?? ''
    back.searchParams.set('state', `${state.slice(0, -1)}${state.endsWith('A') ? 'B' : 'A'}`)
    expectLoginError(await callback(auth, back, begun.secret), 'invalid_state')
  })

  it('a state past its 10 minutes', async () => {
    const { provider, auth } = await withProvider()
    pinClock()
    const begun = await start(auth)
    const back = await provider.authorize(begun.location)
    advanceClock(601)
    expectLoginError(await callback(auth, back, begun.secret), 'invalid_state')
  })

  it('an error from the provider (the user said no)', async () => {
    const { provider, auth } = await withProvider()
    const begun = await start(auth)
    const back = await provider.authorize(begun.location)
    back.searchParams.delete('code')
    back.searchParams.set('error', 'access_denied')
    expectLoginError(await callback(auth, back, begun.secret), 'provider_error')
  })

  it('a token endpoint that fails', async () => {
    const { provider, auth } = await withProvider()
    provider.failures.token = 500
    expectLoginError(await signInAtProvider(auth, provider), 'provider_error')
  })
})

describe('the ID token is refused, and nothing is created, when', () => {
  const attacks: [string, (claims: Record<string, unknown>) => Record<string, unknown>][] = [
    ['its nonce is another', (claims) => ({ ...claims, nonce: 'another-nonce' })],
    ['it has no nonce', ({ nonce: _nonce, ...claims }) => claims],
    ['its issuer is another', (claims) => ({ ...claims, iss: 'https://evil.example.test' })],
    ['its audience is another client', (claims) => ({ ...claims, aud: 'another-client' })],
    [
      'it names several audiences and no azp',
      (claims) => ({ ...claims, aud: [claims.aud, 'another-client'] }),
    ],
    ['its azp is another client', (claims) => ({ ...claims, azp: 'another-client' })],
    [
      'it expired',
      (claims) => ({
        ...claims,
        exp: Math.floor(Date.now() / 1000) - 120,
        iat: Math.floor(Date.now() / 1000) - 600,
      }),
    ],
    [
      'it was issued in the future',
      (claims) => ({ ...claims, iat: Math.floor(Date.now() / 1000) + 600 }),
    ],
    ['it has no exp', ({ exp: _exp, ...claims }) => claims],
  ]
  it.each(attacks)('%s', async (_name, tamper) => {
    const { provider, auth } = await withProvider()
    const email = uniqueEmail()
    const res = await signInAtProvider(auth, provider, {
      claims: { email, email_verified: true },
      idToken: (claims, idp) => idp.sign(tamper(claims)),
    })
    expectLoginError(res, 'invalid_id_token')
    expect(await usersWithEmail(email)).toBe(0)
  })

  it('it is unsigned (alg none)', async () => {
    const { provider, auth } = await withProvider()
    const email = uniqueEmail()
    const res = await signInAtProvider(auth, provider, {
      claims: { email, email_verified: true },
      idToken: (claims) => signJwt({ alg: 'none', typ: 'JWT', kid: 'key-1' }, claims, null),
    })
    expectLoginError(res, 'invalid_id_token')
    expect(await usersWithEmail(email)).toBe(0)
  })

  it('it is an HMAC keyed with the public key from the JWKS (alg confusion)', async () => {
    const { provider, auth } = await withProvider()
    const email = uniqueEmail()
    const res = await signInAtProvider(auth, provider, {
      claims: { email, email_verified: true },
      idToken: async (claims, idp) => {
        const input = `${base64UrlEncode(JSON.stringify({ alg: 'HS256', typ: 'JWT', kid: 'key-1' }))}.${base64UrlEncode(JSON.stringify(claims))}`
        const key = await crypto.subtle.importKey(
          'raw',
          new TextEncoder().encode(JSON.stringify(idp.keys[0].publicJwk)),
          { name: 'HMAC', hash: 'SHA-256' },
          false,
          ['sign']
        )
        const mac = await crypto.subtle.sign('HMAC', key, new TextEncoder().encode(input))
        return `${input}.${base64UrlEncode(new Uint8Array(mac))}`
      },
    })
    expectLoginError(res, 'invalid_id_token')
    expect(await usersWithEmail(email)).toBe(0)
  })

  it("its signature is forged (the provider's kid, an attacker's key)", async () => {
    const { provider, auth } = await withProvider()
    const email = uniqueEmail()
    const forger = await generateProviderKey('RS256', 'key-1')
    const res = await signInAtProvider(auth, provider, {
      claims: { email, email_verified: true },
      idToken: (claims, idp) => idp.sign(claims, forger),
    })
    expectLoginError(res, 'invalid_id_token')
    expect(await usersWithEmail(email)).toBe(0)
  })

  it('it is signed by a key the JWKS does not hold, after one refetch', async () => {
    const { provider, auth } = await withProvider()
    const email = uniqueEmail()
    const stranger = await generateProviderKey('RS256', 'stranger')
    const res = await signInAtProvider(auth, provider, {
      claims: { email, email_verified: true },
      idToken: (claims, idp) => idp.sign(claims, stranger),
    })
    expectLoginError(res, 'invalid_id_token')
    expect(provider.fetched.filter((url) => url.endsWith('/jwks'))).toHaveLength(2)
    expect(await usersWithEmail(email)).toBe(0)
  })

  it('it is signed by a 1024-bit RSA key the JWKS publishes', async () => {
    const { provider, auth } = await withProvider()
    await provider.rotate('weak', true, 1024)
    const email = uniqueEmail()
    const res = await signInAtProvider(auth, provider, { claims: { email, email_verified: true } })
    expectLoginError(res, 'invalid_id_token')
    expect(await usersWithEmail(email)).toBe(0)
  })

  it('its alg does not match the key (ES256 header on the RSA key)', async () => {
    const { provider, auth } = await withProvider()
    const email = uniqueEmail()
    const ec = await generateProviderKey('ES256', 'key-1')
    const res = await signInAtProvider(auth, provider, {
      claims: { email, email_verified: true },
      idToken: (claims) => signJwt({ alg: 'ES256', kid: 'key-1' }, claims, ec),
    })
    expectLoginError(res, 'invalid_id_token')
    expect(await usersWithEmail(email)).toBe(0)
  })
})

describe('POST /auth/oidc/exchange', () => {
  it('refuses a second exchange of the same code with 400 invalid_one_time_token', async () => {
    const { provider, auth } = await withProvider()
    const { value } = fragmentOf(
      await signInAtProvider(auth, provider, {
        claims: { email: uniqueEmail(), email_verified: true },
      })
    )
    expect((await exchange(auth, value)).status).toBe(200)
    await expectError(await exchange(auth, value), 400, 'invalid_one_time_token')
  })

  it("refuses a code carried to another browser (login CSRF), and the code's own browser still trades it", async () => {
    // The attacker signs in with their own provider account and hands the code to the victim's
    // browser (APP_URL/#login=<code>), whose front end trades it.
    const { provider, auth } = await withProvider()
    const { value } = fragmentOf(
      await signInAtProvider(auth, provider, {
        claims: { sub: 'attacker', email: uniqueEmail(), email_verified: true },
      })
    )
    const victimsOwnFlow = await start(auth)
    for (const cookie of ['', `${OIDC_COOKIE}=${victimsOwnFlow.secret}`, `${OIDC_COOKIE}=x`]) {
      await expectError(
        await exchange(auth, value, { Cookie: cookie }),
        400,
        'invalid_one_time_token'
      )
    }
    const own = await exchange(auth, value)
    expect(own.status).toBe(200)
    // The exchange ends the flow's cookie, as the callback ended its state.
    const cleared = own.headers
      .getSetCookie()
      .find((header) => header.startsWith(`${OIDC_COOKIE}=`))
    // With the attributes it was set with: a browser keeps a __Host- cookie whose expiry lacks them.
    expect(cleared).toBe(`${OIDC_COOKIE}=; Max-Age=0; Path=/; HttpOnly; Secure; SameSite=Lax`)
  })

  it('refuses a code older than 60 seconds', async () => {
    const { provider, auth } = await withProvider()
    pinClock()
    const { value } = fragmentOf(
      await signInAtProvider(auth, provider, {
        claims: { email: uniqueEmail(), email_verified: true },
      })
    )
    advanceClock(61)
    await expectError(await exchange(auth, value), 400, 'invalid_one_time_token')
  })

  it('gives one session to two exchanges of one code racing', async () => {
    const { provider, auth } = await withProvider()
    const { value } = fragmentOf(
      await signInAtProvider(auth, provider, {
        claims: { email: uniqueEmail(), email_verified: true },
      })
    )
    const answers = await Promise.all([exchange(auth, value), exchange(auth, value)])
    expect(answers.map((res) => res.status).sort()).toEqual([200, 400])
  })

  it('refuses an unknown or malformed code', async () => {
    const { auth } = await withProvider()
    await expectError(await exchange(auth, 'A'.repeat(43)), 400, 'invalid_one_time_token')
    await expectError(await exchange(auth, 'not a code'), 400, 'invalid_one_time_token')
  })
})

describe('expired states and login codes', () => {
  const expired = (table: string) =>
    countRows(
      `SELECT COUNT(*) AS n FROM ${table} WHERE expires_at <= ?1`,
      Math.floor(Date.now() / 1000)
    )

  it('go with the next state written, and a state still live stays usable', async () => {
    const { provider, auth } = await withProvider()
    pinClock()
    await start(auth)
    advanceClock(300)
    const live = await start(auth)
    advanceClock(301)
    expect(await expired('oidc_states')).toBeGreaterThan(0)

    await start(auth)

    expect(await expired('oidc_states')).toBe(0)
    const back = await provider.authorize(live.location, {
      claims: { email: uniqueEmail(), email_verified: true },
    })
    expect(fragmentOf(await callback(auth, back, live.secret)).name).toBe('login')
  })

  it('go with the next login code written, and that one trades for a session', async () => {
    const { provider, auth } = await withProvider()
    pinClock()
    await signInAtProvider(auth, provider, {
      claims: { email: uniqueEmail(), email_verified: true },
    })
    advanceClock(61)
    expect(await expired('oidc_login_codes')).toBeGreaterThan(0)

    const { value } = fragmentOf(
      await signInAtProvider(auth, provider, {
        claims: { email: uniqueEmail(), email_verified: true },
      })
    )

    expect(await expired('oidc_login_codes')).toBe(0)
    expect((await exchange(auth, value)).status).toBe(200)
  })
})

describe('OIDC_PROVIDERS', () => {
  it.each([
    ['not JSON', '{'],
    ['an object', '{"id":"x"}'],
    ['a bad id', '[{"id":"Bad Id","issuer":"https://a.example","client_id":"c"}]'],
    ['an http issuer', '[{"id":"a","issuer":"http://idp.example","client_id":"c"}]'],
    ['no client_id', '[{"id":"a","issuer":"https://idp.example"}]'],
    [
      'scopes without openid',
      '[{"id":"a","issuer":"https://idp.example","client_id":"c","scopes":"email"}]',
    ],
    [
      'a repeated id',
      '[{"id":"a","issuer":"https://a.example","client_id":"c"},{"id":"a","issuer":"https://b.example","client_id":"c"}]',
    ],
  ])(
    'answers 500 server_misconfigured on the oidc routes for %s, and password sign-in goes on',
    async (_name, raw) => {
      const res = await apiWithOidcEnv({ OIDC_PROVIDERS: raw }, '/auth/oidc/providers')
      await expectError(res, 500, 'server_misconfigured')
      const login = await apiWithOidcEnv({ OIDC_PROVIDERS: raw }, '/auth/login', {
        json: { email: uniqueEmail(), password: 'whatever password' },
      })
      await expectError(login, 401, 'invalid_credentials')
    }
  )

  it('reads a loopback http issuer and the client secret from OIDC_CLIENT_SECRET_<ID>', () => {
    expect(
      oidcOptionsFromEnv({
        OIDC_PROVIDERS: '[{"id":"local_idp","issuer":"http://127.0.0.1:4000","client_id":"c"}]',
        OIDC_CLIENT_SECRET_LOCAL_IDP: 's3cret',
      })
    ).toEqual({
      providers: [
        {
          id: 'local_idp',
          kind: 'oidc',
          name: 'local_idp',
          issuer: 'http://127.0.0.1:4000',
          clientId: 'c',
          clientSecret: 's3cret',
          scopes: 'openid email profile',
        },
      ],
    })
  })

  it('refuses to run a Worker built without the feature when providers are configured', async () => {
    // The default Worker leaves the feature out (bundle size): its providers would be ignored.
    const raw = '[{"id":"a","issuer":"https://idp.example","client_id":"c"}]'
    const ctx = createExecutionContext()
    const res = await defaultWorker.fetch(
      buildRequest('/auth/login', {
        method: 'POST',
        json: { email: uniqueEmail(), password: 'correct horse battery staple' },
      }),
      { ...env, OIDC_PROVIDERS: raw },
      ctx
    )
    await waitOnExecutionContext(ctx)
    await expectError(res, 500, 'server_misconfigured')
  })

  it('lists the configured providers for the sign-in buttons', async () => {
    const provider = await startTestProvider({ issuer: uniqueIssuer() })
    const res = await call(oidcAuth(provider), '/auth/oidc/providers')
    expect(await res.json()).toEqual({ providers: [{ id: 'test', name: 'Test IdP' }] })
    const none = await apiWithOidcEnv({ OIDC_PROVIDERS: '' }, '/auth/oidc/providers')
    expect(await none.json()).toEqual({ providers: [] })
  })
})
