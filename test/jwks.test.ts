/** Asymmetric access tokens: the published JWKS, verification by jose, rotation and refused confusions. */
import { env } from 'cloudflare:test'
import { createLocalJWKSet, jwtVerify } from 'jose'
import { describe, expect, it } from 'vitest'
import { registerUser, uniqueEmail } from './helpers/accounts'
import { envWithKeys, fetchJwks, generateKey } from './helpers/jwks'
import type { Asymmetric, PrivateJwk } from './helpers/jwks'
import { expectError, callApp } from './helpers/requests'
import { decodeJwt, forgeToken } from './helpers/tokens'

const ALGORITHMS: Asymmetric[] = ['EdDSA', 'ES256']

const publicPart = ({ d: _d, ...rest }: PrivateJwk) => rest

const verifyWithJose = async (
  token: string,
  jwks: { keys: Record<string, unknown>[] },
  alg: Asymmetric
) =>
  jwtVerify(token, createLocalJWKSet(jwks), {
    issuer: env.JWT_ISSUER,
    algorithms: [alg],
  })

const expectInvalidToken = async (res: Response) => {
  await expectError(res, 401, 'invalid_token')
  expect(res.headers.get('WWW-Authenticate')).toContain('error="invalid_token"')
}

describe.each(ALGORITHMS)('%s signing', (alg) => {
  it('GET /.well-known/jwks.json publishes every public key with kid, alg and use, and no private part', async () => {
    const [first, second] = [
      await generateKey(alg, 'key-2026-02'),
      await generateKey(alg, 'key-2026-01'),
    ]
    const res = await callApp(envWithKeys(alg, [first, second]), '/.well-known/jwks.json')
    expect(res.status).toBe(200)
    expect(res.headers.get('Cache-Control')).toBe('public, max-age=300')
    const text = await res.text()
    expect(JSON.parse(text)).toEqual({ keys: [publicPart(first), publicPart(second)] })
    expect(text).not.toContain('"d"')
    expect(text).not.toContain(first.d)
  })

  it('signs access tokens with the first key and names it in the header', async () => {
    const key = await generateKey(alg, 'signer')
    const { tokens } = await registerUser({ appEnv: envWithKeys(alg, [key]) })
    expect(decodeJwt(tokens.access_token).header).toEqual({ alg, typ: 'JWT', kid: 'signer' })
  })

  it('issues tokens that jose verifies against the fetched JWKS, and that the worker accepts', async () => {
    const appEnv = envWithKeys(alg, [await generateKey(alg, 'k1')])
    const { tokens } = await registerUser({ appEnv })
    const { payload, protectedHeader } = await verifyWithJose(
      tokens.access_token,
      await fetchJwks(appEnv),
      alg
    )
    expect(protectedHeader.kid).toBe('k1')
    expect(payload).toMatchObject({
      sub: tokens.user.id,
      iss: env.JWT_ISSUER,
      token_use: 'access',
    })
    expect((await callApp(appEnv, '/me', { token: tokens.access_token })).status).toBe(200)
  })

  it('rotation: old tokens verify during the overlap, new tokens carry the new kid, a removed key fails', async () => {
    const [oldKey, newKey] = [await generateKey(alg, 'old'), await generateKey(alg, 'new')]
    const before = envWithKeys(alg, [oldKey])
    const overlap = envWithKeys(alg, [newKey, oldKey])
    const after = envWithKeys(alg, [newKey])
    const { tokens: oldTokens } = await registerUser({ appEnv: before })

    // The new key is added in front: it signs at once, and the old key still verifies.
    expect((await callApp(overlap, '/me', { token: oldTokens.access_token })).status).toBe(200)
    const refreshed = await callApp(overlap, '/auth/refresh', {
      json: { refresh_token: oldTokens.refresh_token },
    })
    expect(refreshed.status).toBe(200)
    const newToken = ((await refreshed.json()) as { access_token: string }).access_token
    expect(decodeJwt(newToken).header.kid).toBe('new')
    const overlapJwks = await fetchJwks(overlap)
    await expect(verifyWithJose(oldTokens.access_token, overlapJwks, alg)).resolves.toBeDefined()
    await expect(verifyWithJose(newToken, overlapJwks, alg)).resolves.toBeDefined()

    // The old key is removed: its tokens fail in the worker and in jose, the new key's do not.
    const afterJwks = await fetchJwks(after)
    expect(afterJwks.keys.map((key) => key.kid)).toEqual(['new'])
    await expectInvalidToken(await callApp(after, '/me', { token: oldTokens.access_token }))
    await expect(verifyWithJose(oldTokens.access_token, afterJwks, alg)).rejects.toMatchObject({
      code: 'ERR_JWKS_NO_MATCHING_KEY',
    })
    await expect(verifyWithJose(newToken, afterJwks, alg)).resolves.toBeDefined()
  })

  it('JWT_ACTIVE_KID picks the signing key out of the set', async () => {
    const keys = [await generateKey(alg, 'published-early'), await generateKey(alg, 'current')]
    const { tokens } = await registerUser({
      appEnv: envWithKeys(alg, keys, { JWT_ACTIVE_KID: 'current' }),
    })
    expect(decodeJwt(tokens.access_token).header.kid).toBe('current')
  })
})

describe('algorithm confusion and key selection', () => {
  const setUp = async () => {
    const edKey = await generateKey('EdDSA', 'ed')
    const ecKey = await generateKey('ES256', 'ec')
    const appEnv = envWithKeys('EdDSA', [edKey, ecKey])
    const { tokens } = await registerUser({ appEnv })
    const { header, payload } = decodeJwt(tokens.access_token)
    return { edKey, ecKey, appEnv, header, payload, tokens }
  }

  it('accepts a token built by hand with the right key, so the refusals below are about one change each', async () => {
    const { edKey, appEnv, header, payload } = await setUp()
    const token = await forgeToken(header, payload, edKey)
    expect((await callApp(appEnv, '/me', { token })).status).toBe(200)
  })

  it('refuses an HS256 token whose HMAC key is the public key', async () => {
    const { edKey, appEnv, payload } = await setUp()
    const { d: _d, ...publicJwk } = edKey
    for (const secret of [JSON.stringify(publicJwk), edKey.x]) {
      const token = await forgeToken({ alg: 'HS256', typ: 'JWT', kid: 'ed' }, payload, secret)
      await expectInvalidToken(await callApp(appEnv, '/me', { token }))
    }
  })

  it('refuses an HS256 token signed with JWT_SECRET once an asymmetric algorithm is configured', async () => {
    const { appEnv, payload } = await setUp()
    const token = await forgeToken({ alg: 'HS256', typ: 'JWT' }, payload, env.JWT_SECRET)
    await expectInvalidToken(await callApp(appEnv, '/me', { token }))
  })

  it("refuses a token whose alg is not its kid's key's, even with a valid signature from another key of the set", async () => {
    const { ecKey, appEnv, payload } = await setUp()
    const token = await forgeToken({ alg: 'ES256', typ: 'JWT', kid: 'ed' }, payload, ecKey)
    await expectInvalidToken(await callApp(appEnv, '/me', { token }))
  })

  it('refuses a token with an unknown kid or without a kid', async () => {
    const { appEnv, payload } = await setUp()
    const stranger = await generateKey('EdDSA', 'stranger')
    await expectInvalidToken(
      await callApp(appEnv, '/me', {
        token: await forgeToken({ alg: 'EdDSA', typ: 'JWT', kid: 'stranger' }, payload, stranger),
      })
    )
    await expectInvalidToken(
      await callApp(appEnv, '/me', {
        token: await forgeToken({ alg: 'EdDSA', typ: 'JWT' }, payload, stranger),
      })
    )
  })

  it('refuses tokens that carry jwk, jku, x5u or x5c headers, even when signed by the real key', async () => {
    const { edKey, appEnv, header, payload } = await setUp()
    const { d: _d, ...publicJwk } = edKey
    const extras = [
      { jwk: publicJwk },
      { jku: 'https://attacker.example/jwks.json' },
      { x5u: 'https://attacker.example/cert.pem' },
      { x5c: ['MIIB'] },
    ]
    for (const extra of extras) {
      const token = await forgeToken({ ...header, ...extra }, payload, edKey)
      await expectInvalidToken(await callApp(appEnv, '/me', { token }))
    }
  })

  it('refuses an unsigned token (alg none) that names a real kid', async () => {
    const { appEnv, payload } = await setUp()
    const token = await forgeToken({ alg: 'none', typ: 'JWT', kid: 'ed' }, payload)
    await expectInvalidToken(await callApp(appEnv, '/me', { token }))
  })

  it('still reports token_expired only after the signature checked out', async () => {
    const { edKey, appEnv, header, payload } = await setUp()
    const now = Math.floor(Date.now() / 1000)
    const stale = { ...payload, iat: now - 100, exp: now - 10 }
    await expectError(
      await callApp(appEnv, '/me', { token: await forgeToken(header, stale, edKey) }),
      401,
      'token_expired'
    )
    const stranger = await generateKey('EdDSA', 'ed')
    await expectInvalidToken(
      await callApp(appEnv, '/me', { token: await forgeToken(header, stale, stranger) })
    )
  })
})

describe('HS256, the default', () => {
  it('publishes an empty key set', async () => {
    const res = await callApp(env, '/.well-known/jwks.json')
    expect(res.status).toBe(200)
    expect(res.headers.get('Cache-Control')).toBe('public, max-age=300')
    expect(await res.json()).toEqual({ keys: [] })
  })

  it('keeps its header without kid', async () => {
    const { tokens } = await registerUser({ appEnv: env })
    expect(decodeJwt(tokens.access_token).header).toEqual({ alg: 'HS256', typ: 'JWT' })
  })

  it('refuses a token signed with JWT_SECRET that carries a jku header', async () => {
    const { tokens } = await registerUser({ appEnv: env })
    const token = await forgeToken(
      { alg: 'HS256', typ: 'JWT', jku: 'https://attacker.example/jwks.json' },
      decodeJwt(tokens.access_token).payload
    )
    await expectInvalidToken(await callApp(env, '/me', { token }))
  })
})

describe('misconfiguration', () => {
  const cases: [string, () => Promise<object>][] = [
    ['JWT_PRIVATE_KEYS is missing', async () => ({ ...env, JWT_ALGORITHM: 'EdDSA' })],
    [
      'JWT_PRIVATE_KEYS is not JSON',
      async () => ({ ...env, JWT_ALGORITHM: 'EdDSA', JWT_PRIVATE_KEYS: '{keys' }),
    ],
    [
      'the key set is empty',
      async () => ({ ...env, JWT_ALGORITHM: 'ES256', JWT_PRIVATE_KEYS: '{"keys":[]}' }),
    ],
    [
      'a key lacks its private part',
      async () => {
        const { d: _d, ...publicOnly } = await generateKey('EdDSA', 'k')
        return {
          ...env,
          JWT_ALGORITHM: 'EdDSA',
          JWT_PRIVATE_KEYS: JSON.stringify({ keys: [publicOnly] }),
        }
      },
    ],
    [
      'a key lacks its kid',
      async () => {
        const { kid: _kid, ...anonymous } = await generateKey('ES256', 'k')
        return {
          ...env,
          JWT_ALGORITHM: 'ES256',
          JWT_PRIVATE_KEYS: JSON.stringify({ keys: [anonymous] }),
        }
      },
    ],
    [
      'the active key is of another algorithm',
      async () => envWithKeys('ES256', [await generateKey('EdDSA', 'k')]),
    ],
    [
      'JWT_ACTIVE_KID names no key',
      async () =>
        envWithKeys('EdDSA', [await generateKey('EdDSA', 'k')], { JWT_ACTIVE_KID: 'gone' }),
    ],
    ['JWT_ALGORITHM is unknown', async () => ({ ...env, JWT_ALGORITHM: 'RS256' })],
  ]

  it.each(cases)(
    'answers 500 server_misconfigured when %s, before writing anything',
    async (_name, build) => {
      const appEnv = await build()
      const email = uniqueEmail()
      const credentials = { email, password: 'correct horse battery staple' }
      const res = await callApp(appEnv, '/auth/register', { json: credentials })
      const body = await expectError(res, 500, 'server_misconfigured')
      expect(JSON.stringify(body)).not.toMatch(/"d"|PRIVATE|kid/)
      // Nothing was written: the same email registers cleanly once the configuration is right.
      expect((await callApp(env, '/auth/register', { json: credentials })).status).toBe(201)
    }
  )

  it('answers 500 server_misconfigured when a private key does not match its published half', async () => {
    const [key, other] = [await generateKey('EdDSA', 'k'), await generateKey('EdDSA', 'other')]
    const appEnv = envWithKeys('EdDSA', [{ ...key, x: other.x }])
    await expectError(
      await callApp(appEnv, '/auth/register', {
        json: { email: uniqueEmail(), password: 'correct horse battery staple' },
      }),
      500,
      'server_misconfigured'
    )
  })

  it('answers 500 server_misconfigured on the JWKS route when the key set is broken', async () => {
    await expectError(
      await callApp({ ...env, JWT_ALGORITHM: 'EdDSA' }, '/.well-known/jwks.json'),
      500,
      'server_misconfigured'
    )
  })
})
