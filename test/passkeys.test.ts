/**
 * Passkeys end to end in workerd: registration, the list, removal and passwordless sign-in, with
 * a software authenticator making real keys, CBOR and signatures, and every attack built from
 * bytes: another challenge, a replayed one, one of another purpose, a wrong origin or RP id,
 * missing flags, a counter going back, a credential on two accounts, a removed passkey, another
 * key's signature, malformed and oversized fields.
 */
import { env } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { registerUser } from './helpers/accounts'
import type { Account, TokenResponseBody } from './helpers/accounts'
import {
  FLAGS,
  ORIGIN,
  RP_ID,
  base64UrlToBytes,
  createAuthenticator,
  encodeCbor,
} from './helpers/authenticator'
import type { CborInput, SoftwareAuthenticator } from './helpers/authenticator'
import { advanceClock, pinClock } from './helpers/clock'
import {
  addPasskey,
  addedPasskey,
  loginOptions,
  passkeyApi,
  passkeyLogin,
  registrationOptions,
} from './helpers/passkeys'
import { api, expectError } from './helpers/requests'
import { base64UrlEncode, decodeJwt } from './helpers/tokens'

const storedPasskeys = async (userId: string) =>
  (
    await env.DB.prepare('SELECT * FROM passkeys WHERE user_id = ?1')
      .bind(userId)
      .all<{ id: string; credential_id: string; algorithm: number; sign_count: number }>()
  ).results

const failures = async (email: string): Promise<number> =>
  (
    await env.DB.prepare('SELECT failures FROM login_failures WHERE email = ?1')
      .bind(email)
      .first<{ failures: number }>()
  )?.failures ?? 0

/** An account with one passkey of the given authenticator. */
const accountWithPasskey = async (
  options: Parameters<typeof createAuthenticator>[0] = {}
): Promise<{ account: Account; authenticator: SoftwareAuthenticator }> => {
  const account = await registerUser()
  const authenticator = await createAuthenticator(options)
  await addedPasskey(account, authenticator)
  return { account, authenticator }
}

/** A sign-in's token response: the tokens, not cacheable, the user with their passkey count. */
const expectTokenResponse = async (res: Response, passkeys = 1): Promise<TokenResponseBody> => {
  const text = await res.text()
  expect(res.status, text).toBe(200)
  expect(res.headers.get('Cache-Control')).toBe('no-store')
  const body = JSON.parse(text) as TokenResponseBody & { user: { mfa: unknown } }
  expect(body.token_type).toBe('Bearer')
  expect(body.refresh_token).toMatch(/^[A-Za-z0-9_-]{43,}$/)
  expect(body.user.mfa).toEqual({ totp: false, passkeys })
  return body
}

const loginWith = async (credential: unknown): Promise<Response> =>
  passkeyApi('/auth/passkeys/login', { json: { credential } })

describe('passkey registration', () => {
  it('offers creation options for a discoverable credential, attestation "none", EdDSA, ES256 and RS256', async () => {
    const account = await registerUser({ nickname: 'Ada' })
    const options = await registrationOptions(account)

    expect(options.challenge).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(options.rp).toEqual({ id: RP_ID, name: env.JWT_ISSUER })
    expect(options.user).toEqual({
      id: base64UrlEncode(account.userId),
      name: account.email,
      displayName: 'Ada',
    })
    expect(options.pubKeyCredParams).toEqual([
      { type: 'public-key', alg: -8 },
      { type: 'public-key', alg: -7 },
      { type: 'public-key', alg: -257 },
    ])
    expect(options.authenticatorSelection).toMatchObject({
      residentKey: 'required',
      requireResidentKey: true,
    })
    expect(options.attestation).toBe('none')
    expect(options.timeout).toBe(300_000)
    expect(options.excludeCredentials).toEqual([])
  })

  it.each(['ES256', 'EdDSA', 'RS256'] as const)(
    'stores a %s passkey and lists it; the next options exclude it',
    async (algorithm) => {
      const account = await registerUser()
      const authenticator = await createAuthenticator({ algorithm })

      const res = await addPasskey(account, authenticator, undefined, '  Laptop  ')

      expect(res.status, await res.clone().text()).toBe(201)
      const { passkey } = (await res.json()) as { passkey: Record<string, unknown> }
      expect(passkey).toEqual({
        id: expect.any(String),
        name: 'Laptop',
        created_at: expect.any(String),
        last_used_at: null,
      })
      const [row] = await storedPasskeys(account.userId)
      expect(row.credential_id).toBe(authenticator.credentialId)
      expect(row.algorithm).toBe({ ES256: -7, EdDSA: -8, RS256: -257 }[algorithm])
      const list = await passkeyApi('/auth/passkeys', { token: account.accessToken })
      expect(await list.json()).toEqual({ passkeys: [passkey] })
      const again = await registrationOptions(account)
      expect(again.excludeCredentials).toEqual([
        { type: 'public-key', id: authenticator.credentialId },
      ])
    }
  )

  it("does not show one user's passkeys to another", async () => {
    await accountWithPasskey()
    const stranger = await registerUser()
    const list = await passkeyApi('/auth/passkeys', { token: stranger.accessToken })
    expect(await list.json()).toEqual({ passkeys: [] })
  })

  it('needs an access token', async () => {
    const res = await passkeyApi('/auth/passkeys/register/options', { method: 'POST' })
    await expectError(res, 401, 'missing_token')
  })

  it("refuses a credential answering another user's registration challenge", async () => {
    const [victim, attacker] = [await registerUser(), await registerUser()]
    const authenticator = await createAuthenticator()
    // The attacker's credential, made for the victim's challenge, sent with the attacker's token.
    const credential = await authenticator.create(await registrationOptions(victim))

    const res = await passkeyApi('/auth/passkeys/register', {
      token: attacker.accessToken,
      json: { credential },
    })

    await expectError(res, 400, 'invalid_passkey')
    expect(await storedPasskeys(attacker.userId)).toEqual([])
  })

  it('refuses a registration challenge used twice', async () => {
    const account = await registerUser()
    const options = await registrationOptions(account)
    const first = await (await createAuthenticator()).create(options)
    const second = await (await createAuthenticator()).create(options)
    const send = (credential: unknown) =>
      passkeyApi('/auth/passkeys/register', { token: account.accessToken, json: { credential } })

    expect((await send(first)).status).toBe(201)
    await expectError(await send(second), 400, 'invalid_passkey')
    expect(await storedPasskeys(account.userId)).toHaveLength(1)
  })

  it('refuses a login challenge answered as a registration', async () => {
    const account = await registerUser()
    const authenticator = await createAuthenticator()
    const options = await registrationOptions(account)
    const { challenge } = await loginOptions()

    const credential = await authenticator.create({ ...options, challenge })
    const res = await passkeyApi('/auth/passkeys/register', {
      token: account.accessToken,
      json: { credential },
    })

    await expectError(res, 400, 'invalid_passkey')
  })

  it('refuses a registration challenge after its 5 minutes', async () => {
    pinClock()
    const account = await registerUser()
    const authenticator = await createAuthenticator()
    const credential = await authenticator.create(await registrationOptions(account))
    advanceClock(301)

    const res = await passkeyApi('/auth/passkeys/register', {
      token: account.accessToken,
      json: { credential },
    })

    await expectError(res, 400, 'invalid_passkey')
  })

  it.each([
    ['another origin', { origin: 'https://evil.example' }],
    ['a framed ceremony', { crossOrigin: true }],
    ['an assertion type', { type: 'webauthn.get' }],
    ['another RP id hash', { rpId: 'evil.example' }],
    ['no user presence', { up: false }],
    ['an attestation statement', { fmt: 'packed' }],
    [
      'an unknown algorithm (ES384)',
      {
        coseKey: new Map<number, CborInput>([
          [1, 2],
          [3, -35],
          [-1, 2],
          [-2, new Uint8Array(48)],
          [-3, new Uint8Array(48)],
        ]),
      },
    ],
    [
      'an ES256 key off the curve',
      {
        coseKey: new Map<number, CborInput>([
          [1, 2],
          [3, -7],
          [-1, 1],
          [-2, new Uint8Array(32)],
          [-3, new Uint8Array(32)],
        ]),
      },
    ],
    ['bytes after the public key', { trailing: Uint8Array.of(0) }],
    ['a credential id other than the attested one', { id: base64UrlEncode(new Uint8Array(32)) }],
  ] as const)('refuses a registration with %s (400 invalid_passkey)', async (_, tampering) => {
    const account = await registerUser()
    const res = await addPasskey(account, await createAuthenticator(), tampering as never)
    await expectError(res, 400, 'invalid_passkey')
    expect(await storedPasskeys(account.userId)).toEqual([])
  })

  it('accepts a registration without user verification (only a sign-in needs it)', async () => {
    const account = await registerUser()
    const res = await addPasskey(account, await createAuthenticator(), { uv: false })
    expect(res.status).toBe(201)
  })

  it('refuses a credential id registered already, to another account or the same one', async () => {
    const { account, authenticator } = await accountWithPasskey()
    const other = await registerUser()

    await expectError(await addPasskey(other, authenticator), 400, 'invalid_passkey')
    await expectError(await addPasskey(account, authenticator), 400, 'invalid_passkey')
    expect(await storedPasskeys(other.userId)).toEqual([])
    expect(await storedPasskeys(account.userId)).toHaveLength(1)
  })

  it('refuses a truncated or malformed attestation object, and bad base64url, as a client error', async () => {
    const account = await registerUser()
    const authenticator = await createAuthenticator()
    const options = await registrationOptions(account)
    const credential = await authenticator.create(options)
    const attestation = base64UrlToBytes(credential.response.attestationObject)
    const send = (response: Record<string, unknown>) =>
      passkeyApi('/auth/passkeys/register', {
        token: account.accessToken,
        json: { credential: { ...credential, response: { ...credential.response, ...response } } },
      })

    for (const cut of [1, 10, 40, attestation.length - 1]) {
      const truncated = base64UrlEncode(attestation.slice(0, cut))
      await expectError(await send({ attestationObject: truncated }), 400, 'invalid_passkey')
    }
    // An indefinite-length map, a tag, a float: nothing WebAuthn writes.
    for (const bytes of [
      [0xbf, 0xff],
      [0xc0, 0x00],
      [0xfa, 0, 0, 0, 0],
    ]) {
      const odd = base64UrlEncode(Uint8Array.from(bytes))
      await expectError(await send({ attestationObject: odd }), 400, 'invalid_passkey')
    }
    // A map claiming 2^32 entries, and a byte string claiming more bytes than there are.
    for (const bytes of [
      [0xba, 0xff, 0xff, 0xff, 0xff],
      [0x5b, 0, 0, 0, 1, 0, 0, 0, 0],
    ]) {
      const huge = base64UrlEncode(Uint8Array.from(bytes))
      await expectError(await send({ attestationObject: huge }), 400, 'invalid_passkey')
    }
    const bad = await expectError(
      await send({ attestationObject: 'not*base64' }),
      400,
      'validation_failed'
    )
    expect(bad.details).toHaveProperty(['credential.response.attestationObject'])
    await expectError(await send({ clientDataJSON: 'A' }), 400, 'invalid_passkey')
    await expectError(
      await send({ clientDataJSON: base64UrlEncode('not json') }),
      400,
      'invalid_passkey'
    )
    await expectError(await send({ attestationObject: 'A'.repeat(5000) }), 400, 'validation_failed')
    // The challenge was never redeemed by the failures: the real credential still registers.
    expect((await send({})).status).toBe(201)
  })

  it('refuses an attestation object nested deeper than WebAuthn needs', async () => {
    const account = await registerUser()
    let nested: Parameters<typeof encodeCbor>[0] = new Uint8Array()
    for (let i = 0; i < 8; i++) nested = [nested]
    const object = encodeCbor(
      new Map<string, CborInput>([
        ['fmt', 'none'],
        ['attStmt', new Map<string, CborInput>([['x', nested]])],
      ])
    )
    const credential = await (
      await createAuthenticator()
    ).create(await registrationOptions(account))
    credential.response.attestationObject = base64UrlEncode(object)

    const res = await passkeyApi('/auth/passkeys/register', {
      token: account.accessToken,
      json: { credential },
    })

    await expectError(res, 400, 'invalid_passkey')
  })
})

describe('passwordless sign-in with a passkey', () => {
  it('offers the same request options to everyone: a challenge, the RP id, no credentials', async () => {
    const options = await loginOptions()
    expect(options).toEqual({
      challenge: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      rpId: RP_ID,
      timeout: 300_000,
      userVerification: 'preferred',
      allowCredentials: [],
    })
  })

  it.each([
    ['ES256', false, ['hwk', 'user']],
    ['EdDSA', false, ['hwk', 'user']],
    ['RS256', false, ['hwk', 'user']],
    ['ES256', true, ['swk', 'user']],
  ] as const)(
    'signs in with a %s passkey (synced: %s) and user verification: amr %j',
    async (algorithm, synced, amr) => {
      const { account, authenticator } = await accountWithPasskey({ algorithm, synced })
      const before = Math.floor(Date.now() / 1000)

      const res = await passkeyLogin(authenticator)

      const body = await expectTokenResponse(res)
      expect(body.user.id).toBe(account.userId)
      const { payload } = decodeJwt(body.access_token)
      expect(payload.amr).toEqual(amr)
      expect(payload.auth_time).toBeGreaterThanOrEqual(before)
      const me = await api('/me', { token: body.access_token })
      expect(me.status).toBe(200)
      const [row] = await storedPasskeys(account.userId)
      expect(row.sign_count).toBe(authenticator.counter)
      const list = await passkeyApi('/auth/passkeys', { token: account.accessToken })
      const { passkeys } = (await list.json()) as { passkeys: { last_used_at: string }[] }
      expect(passkeys[0].last_used_at).not.toBeNull()
    }
  )

  it('keeps the amr through a refresh', async () => {
    const { authenticator } = await accountWithPasskey()
    const body = (await (await passkeyLogin(authenticator)).json()) as { refresh_token: string }
    const refreshed = await api('/auth/refresh', { json: { refresh_token: body.refresh_token } })
    const again = (await refreshed.json()) as { access_token: string }
    expect(decodeJwt(again.access_token).payload.amr).toEqual(['hwk', 'user'])
  })

  it('signs in without user verification on an account with no second factor: amr ["hwk"]', async () => {
    const { authenticator } = await accountWithPasskey()
    const res = await passkeyLogin(authenticator, { uv: false })
    const body = await expectTokenResponse(res)
    expect(decodeJwt(body.access_token).payload.amr).toEqual(['hwk'])
  })

  it('sets the cookies in cookie mode', async () => {
    const { authenticator } = await accountWithPasskey()
    const res = await passkeyLogin(authenticator, {}, { 'X-Auth-Mode': 'cookie', Origin: ORIGIN })
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({ auth_mode: 'cookie' })
    expect(res.headers.getSetCookie().join('\n')).toContain('__Host-access_token=')
  })

  it('refuses a challenge the worker never issued', async () => {
    const { authenticator } = await accountWithPasskey()
    const options = await loginOptions()
    const forged = base64UrlEncode(crypto.getRandomValues(new Uint8Array(32)))
    const credential = await authenticator.get({ ...options, challenge: forged })
    await expectError(await loginWith(credential), 401, 'invalid_passkey')
  })

  it('refuses a replayed assertion: the challenge is single use', async () => {
    const { authenticator } = await accountWithPasskey()
    const credential = await authenticator.get(await loginOptions())

    expect((await loginWith(credential)).status).toBe(200)
    await expectError(await loginWith(credential), 401, 'invalid_passkey')
  })

  it('lets exactly one of two racing answers to one challenge sign in', async () => {
    const { authenticator } = await accountWithPasskey({ counting: false })
    const options = await loginOptions()
    const [a, b] = [await authenticator.get(options), await authenticator.get(options)]

    const statuses = (await Promise.all([loginWith(a), loginWith(b)])).map((res) => res.status)

    expect(statuses.sort()).toEqual([200, 401])
  })

  it('refuses a registration challenge answered as a sign-in', async () => {
    const { account, authenticator } = await accountWithPasskey()
    const { challenge } = await registrationOptions(account)
    const credential = await authenticator.get({ ...(await loginOptions()), challenge })
    await expectError(await loginWith(credential), 401, 'invalid_passkey')
  })

  it('takes the expired challenges with it when it issues a new one', async () => {
    pinClock()
    await loginOptions()
    advanceClock(301)
    const expired = () =>
      env.DB.prepare('SELECT COUNT(*) AS n FROM passkey_challenges WHERE expires_at <= ?1')
        .bind(Math.floor(Date.now() / 1000))
        .first<{ n: number }>()
    expect((await expired())?.n).toBeGreaterThan(0)

    await loginOptions()

    expect((await expired())?.n).toBe(0)
  })

  it('refuses a sign-in challenge after its 5 minutes', async () => {
    pinClock()
    const { authenticator } = await accountWithPasskey()
    const credential = await authenticator.get(await loginOptions())
    advanceClock(301)
    await expectError(await loginWith(credential), 401, 'invalid_passkey')
  })

  it.each([
    ['another origin', { origin: 'https://evil.example' }],
    ['an origin on another port', { origin: `${ORIGIN}:8443` }],
    ['a framed ceremony', { crossOrigin: true }],
    ['a registration type', { type: 'webauthn.create' }],
    ['another RP id hash', { rpId: 'evil.example' }],
    ['no user presence', { up: false }],
    ['bytes after the authenticator data', { trailing: Uint8Array.of(0xa0) }],
  ] as const)('refuses an assertion with %s', async (_, tampering) => {
    const { account, authenticator } = await accountWithPasskey()
    await expectError(await passkeyLogin(authenticator, tampering), 401, 'invalid_passkey')
    // Refused before the passkey was looked up: nothing counted, nothing used.
    expect(await failures(account.email)).toBe(0)
  })

  it("refuses an assertion signed by another key, and counts it against the account's throttle", async () => {
    const { account, authenticator } = await accountWithPasskey()
    const other = await createAuthenticator()

    const res = await passkeyLogin(authenticator, { signWith: other.keys.privateKey })

    await expectError(res, 401, 'invalid_passkey')
    expect(await failures(account.email)).toBe(1)
  })

  it('refuses an EdDSA assertion signed by another EdDSA key', async () => {
    const { authenticator } = await accountWithPasskey({ algorithm: 'EdDSA' })
    const other = await createAuthenticator({ algorithm: 'EdDSA' })
    const res = await passkeyLogin(authenticator, { signWith: other.keys.privateKey })
    await expectError(res, 401, 'invalid_passkey')
  })

  it('refuses a counter that does not go up, and keeps the stored one', async () => {
    const { account, authenticator } = await accountWithPasskey()
    authenticator.counter = 41
    expect((await passkeyLogin(authenticator)).status).toBe(200)

    // A clone replaying the count it copied (42), or an older one.
    await expectError(await passkeyLogin(authenticator, { counter: 42 }), 401, 'invalid_passkey')
    await expectError(await passkeyLogin(authenticator, { counter: 7 }), 401, 'invalid_passkey')

    expect((await storedPasskeys(account.userId))[0].sign_count).toBe(42)
    expect((await passkeyLogin(authenticator, { counter: 43 })).status).toBe(200)
  })

  it('accepts an authenticator that keeps no counter (always 0), again and again', async () => {
    const { authenticator } = await accountWithPasskey({ counting: false })
    expect((await passkeyLogin(authenticator)).status).toBe(200)
    expect((await passkeyLogin(authenticator)).status).toBe(200)
  })

  it('refuses an unknown credential, and a user handle that names another account than its owner', async () => {
    const { account, authenticator } = await accountWithPasskey()
    const stranger = await createAuthenticator()
    await expectError(await passkeyLogin(stranger), 401, 'invalid_passkey')
    // WebAuthn's check: the handle, when sent, must map to the credential's owner.
    const other = await registerUser()
    const forged = await passkeyLogin(authenticator, { userHandle: base64UrlEncode(other.userId) })
    await expectError(forged, 401, 'invalid_passkey')
    const res = await passkeyLogin(authenticator, { userHandle: base64UrlEncode(account.userId) })
    expect((await expectTokenResponse(res)).user.id).toBe(account.userId)
    expect((await passkeyLogin(authenticator, { userHandle: null })).status).toBe(200)
  })

  it('refuses a removed passkey', async () => {
    const { account, authenticator } = await accountWithPasskey()
    const [row] = await storedPasskeys(account.userId)
    const removed = await passkeyApi(`/auth/passkeys/${row.id}`, {
      method: 'DELETE',
      token: account.accessToken,
    })
    expect(removed.status).toBe(204)

    await expectError(await passkeyLogin(authenticator), 401, 'invalid_passkey')
  })

  it('refuses malformed assertions as client errors, never a 5xx', async () => {
    const { authenticator } = await accountWithPasskey()
    const credential = await authenticator.get(await loginOptions())
    const authData = base64UrlToBytes(credential.response.authenticatorData)
    const with_ = (response: Record<string, unknown>) => ({
      ...credential,
      response: { ...credential.response, ...response },
    })

    for (const cut of [0, 20, 36]) {
      const truncated = base64UrlEncode(authData.slice(0, cut))
      await expectError(
        await loginWith(with_({ authenticatorData: truncated })),
        401,
        'invalid_passkey'
      )
    }
    const flagged = authData.slice()
    flagged[32] |= FLAGS.ED
    await expectError(
      await loginWith(with_({ authenticatorData: base64UrlEncode(flagged) })),
      401,
      'invalid_passkey'
    )
    await expectError(await loginWith(with_({ signature: 'a+b/' })), 400, 'validation_failed')
    await expectError(
      await loginWith(with_({ clientDataJSON: 'x'.repeat(5000) })),
      400,
      'validation_failed'
    )
    await expectError(
      await loginWith({ ...credential, type: 'password' }),
      400,
      'validation_failed'
    )
    await expectError(await loginWith('a string'), 400, 'validation_failed')
    // None of them used the challenge: the untouched assertion still signs in.
    expect((await loginWith(credential)).status).toBe(200)
    // A signature is checked once the challenge is redeemed: each of these takes its own.
    for (const signature of ['', 'MAYCAQECAQE', base64UrlEncode(new Uint8Array(72))]) {
      const fresh = await authenticator.get(await loginOptions())
      const res = await loginWith({ ...fresh, response: { ...fresh.response, signature } })
      await expectError(res, 401, 'invalid_passkey')
    }
  })

  it('counts failed assertions against the per-account throttle: past 10, even the right one is 429', async () => {
    const { account, authenticator } = await accountWithPasskey()
    const other = await createAuthenticator()
    for (let i = 0; i < 10; i++) {
      const res = await passkeyLogin(authenticator, { signWith: other.keys.privateKey })
      await expectError(res, 401, 'invalid_passkey')
    }

    const res = await passkeyLogin(authenticator)

    await expectError(res, 429, 'too_many_requests')
    expect(Number(res.headers.get('Retry-After'))).toBeGreaterThan(0)
    expect(await failures(account.email)).toBe(10)
  })

  it('gives its place in the throttle back after a good assertion', async () => {
    const { account, authenticator } = await accountWithPasskey()
    expect((await passkeyLogin(authenticator)).status).toBe(200)
    expect(await failures(account.email)).toBe(0)
  })
})

describe('removing passkeys', () => {
  it("removes the user's own passkey: 204, gone from the list", async () => {
    const { account } = await accountWithPasskey()
    const [row] = await storedPasskeys(account.userId)
    const res = await passkeyApi(`/auth/passkeys/${row.id}`, {
      method: 'DELETE',
      token: account.accessToken,
    })
    expect(res.status).toBe(204)
    expect(await storedPasskeys(account.userId)).toEqual([])
  })

  it("answers 404 for another user's passkey and leaves it", async () => {
    const { account } = await accountWithPasskey()
    const stranger = await registerUser()
    const [row] = await storedPasskeys(account.userId)
    const res = await passkeyApi(`/auth/passkeys/${row.id}`, {
      method: 'DELETE',
      token: stranger.accessToken,
    })
    await expectError(res, 404, 'not_found')
    expect(await storedPasskeys(account.userId)).toHaveLength(1)
  })

  it("goes with the account's deletion", async () => {
    const { account } = await accountWithPasskey()
    const res = await passkeyApi('/me', {
      method: 'DELETE',
      token: account.accessToken,
      json: { password: account.password },
    })
    expect(res.status).toBe(204)
    expect(await storedPasskeys(account.userId)).toEqual([])
  })
})

describe('security events', () => {
  it('records passkey_added, a login with method passkey, and passkey_removed', async () => {
    const { account, authenticator } = await accountWithPasskey()
    const login = (await (await passkeyLogin(authenticator)).json()) as { access_token: string }
    const [row] = await storedPasskeys(account.userId)
    await passkeyApi(`/auth/passkeys/${row.id}`, { method: 'DELETE', token: account.accessToken })

    const { results } = await env.DB.prepare(
      'SELECT type, method, session_id FROM security_events WHERE user_id = ?1 ORDER BY id'
    )
      .bind(account.userId)
      .all<{ type: string; method: string | null; session_id: string | null }>()
    const loginSession = decodeJwt(login.access_token).payload.sid
    const ownSession = decodeJwt(account.accessToken).payload.sid
    expect(results.filter((event) => event.type !== 'login' || event.method !== 'pwd')).toEqual([
      { type: 'passkey_added', method: null, session_id: ownSession },
      { type: 'login', method: 'passkey', session_id: loginSession },
      { type: 'passkey_removed', method: null, session_id: ownSession },
    ])
  })
})

describe('a deployment without a relying party', () => {
  it('answers the passkey routes with 404 and serves the rest', async () => {
    // The test pool's env has neither WEBAUTHN_RP_ID nor APP_URL.
    await expectError(await api('/auth/passkeys/login/options', { json: {} }), 404, 'not_found')
    const account = await registerUser()
    const res = await api('/auth/passkeys/register/options', {
      method: 'POST',
      token: account.accessToken,
    })
    await expectError(res, 404, 'not_found')
  })
})
