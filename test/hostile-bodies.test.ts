/** Hostile request bodies: size, shape, encoding and prototype tricks all get a clear 4xx. */
import { SELF } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { registerUser, uniqueEmail } from './helpers/accounts'
import { BASE_URL, api, expectError } from './helpers/requests'

const LIMIT = 16 * 1024
const JSON_HEADERS = { 'Content-Type': 'application/json' }
const encoder = new TextEncoder()

/** A body sent in chunks with no Content-Length, as a client streaming it would. */
const streamOf = (text: string, chunkSize = 1024): ReadableStream<Uint8Array> => {
  const bytes = encoder.encode(text)
  let offset = 0
  return new ReadableStream({
    pull(controller) {
      if (offset >= bytes.length) {
        controller.close()
        return
      }
      controller.enqueue(bytes.slice(offset, offset + chunkSize))
      offset += chunkSize
    },
  })
}

const postStream = (path: string, text: string) =>
  SELF.fetch(`${BASE_URL}${path}`, { method: 'POST', headers: JSON_HEADERS, body: streamOf(text) })

const registerBody = (extra: Record<string, unknown> = {}) => ({
  email: uniqueEmail(),
  password: 'correct horse battery staple',
  ...extra,
})

/** Pads a valid registration with an ignored field until it is exactly `size` bytes long. */
const paddedRegistration = (size: number): string => {
  const base = JSON.stringify({ ...registerBody(), padding: '' })
  return base.replace(
    '"padding":""',
    `"padding":"${'x'.repeat(size - encoder.encode(base).length)}"`
  )
}

describe('body size limit', () => {
  it('POST /auth/register refuses a streamed body over 16 KiB without Content-Length with 413', async () => {
    const res = await postStream('/auth/register', paddedRegistration(LIMIT + 1))

    await expectError(res, 413, 'payload_too_large')
  })

  it('POST /auth/register accepts a streamed body of exactly 16 KiB', async () => {
    const text = paddedRegistration(LIMIT)
    expect(encoder.encode(text).length).toBe(LIMIT)

    const res = await postStream('/auth/register', text)

    expect(res.status, await res.clone().text()).toBe(201)
  })

  it('POST /notes refuses a declared Content-Length over 16 KiB with 413 before auth runs', async () => {
    const res = await api('/notes', { body: 'x'.repeat(LIMIT + 1), headers: JSON_HEADERS })

    await expectError(res, 413, 'payload_too_large')
  })

  it('POST /auth/login refuses a streamed megabyte with 413, not a 5xx', async () => {
    const res = await postStream('/auth/login', `{"email":"${'a'.repeat(1024 * 1024)}"}`)

    await expectError(res, 413, 'payload_too_large')
  })
})

describe('body shape', () => {
  for (const [name, text] of [
    ['an array', '[]'],
    ['a string', '"hello"'],
    ['a number', '42'],
    ['null', 'null'],
    ['true', 'true'],
  ]) {
    it(`POST /auth/register refuses JSON that is ${name} with 400 invalid_json`, async () => {
      await expectError(
        await api('/auth/register', { body: text, headers: JSON_HEADERS }),
        400,
        'invalid_json'
      )
    })
  }

  for (const [name, text] of [
    ['truncated JSON', '{"email":'],
    ['an empty body', ''],
    ['invalid UTF-8', new Uint8Array([0x7b, 0xff, 0xfe, 0x7d])],
  ] as const) {
    it(`POST /auth/login refuses ${name} with 400 invalid_json`, async () => {
      await expectError(
        await api('/auth/login', { body: text, headers: JSON_HEADERS }),
        400,
        'invalid_json'
      )
    })
  }

  it('POST /auth/login refuses a body sent as text/plain with 415', async () => {
    const res = await api('/auth/login', { body: '{}', headers: { 'Content-Type': 'text/plain' } })

    await expectError(res, 415, 'unsupported_media_type')
  })

  it('POST /auth/register answers deeply nested JSON with 400, not a 5xx', async () => {
    const depth = 5000
    const text = `{"email":${'['.repeat(depth)}${']'.repeat(depth)}}`

    await expectError(
      await api('/auth/register', { body: text, headers: JSON_HEADERS }),
      400,
      'validation_failed'
    )
  })
})

describe('prototype-pollution keys', () => {
  it('POST /auth/register ignores __proto__ and constructor keys and answers normally', async () => {
    const text = JSON.stringify(registerBody()).replace(
      /}$/,
      ',"__proto__":{"isAdmin":true,"nickname":"Mallory"},"constructor":{"prototype":{"polluted":1}}}'
    )

    const res = await api('/auth/register', { body: text, headers: JSON_HEADERS })

    expect(res.status, await res.clone().text()).toBe(201)
    const body = await res.json<{ user: Record<string, unknown> }>()
    expect(Object.keys(body.user).sort()).toEqual([
      'created_at',
      'email',
      'email_verified',
      'id',
      'nickname',
    ])
    expect(body.user.nickname).toBeNull()
    expect(({} as Record<string, unknown>).isAdmin).toBeUndefined()
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })

  it('PATCH /me does not take a missing field from a __proto__ key', async () => {
    const account = await registerUser()

    const res = await api('/me', {
      method: 'PATCH',
      token: account.accessToken,
      body: '{"__proto__":{"nickname":"Mallory"}}',
      headers: JSON_HEADERS,
    })

    const body = await expectError(res, 400, 'validation_failed')
    expect(body.details).toEqual({ nickname: 'nickname is required' })
  })
})

describe('strings that are not clean text', () => {
  const nul = 'a\u0000b'
  // JSON.stringify keeps a lone surrogate as a \ud800 escape, which JSON.parse turns back into one.
  const loneSurrogate = 'a\ud800b'

  const cases: [string, string, () => Promise<Response>][] = [
    [
      'email',
      'a NUL byte',
      () => api('/auth/register', { json: registerBody({ email: `x${nul}@example.com` }) }),
    ],
    [
      'email',
      'a lone surrogate',
      () =>
        api('/auth/login', {
          json: { email: `x${loneSurrogate}@example.com`, password: 'whatever1' },
        }),
    ],
    [
      'nickname',
      'a NUL byte',
      () => api('/auth/register', { json: registerBody({ nickname: nul }) }),
    ],
    [
      'nickname',
      'a lone surrogate',
      () => api('/auth/register', { json: registerBody({ nickname: loneSurrogate }) }),
    ],
    [
      'password',
      'a lone surrogate',
      () =>
        api('/auth/register', { json: registerBody({ password: `long enough ${loneSurrogate}` }) }),
    ],
  ]
  for (const [field, what, send] of cases) {
    it(`rejects ${what} in ${field} with 400 validation_failed naming the field`, async () => {
      const body = await expectError(await send(), 400, 'validation_failed')
      expect(Object.keys(body.details ?? {})).toEqual([field])
    })
  }

  for (const [what, title] of [
    ['a NUL byte', nul],
    ['a lone surrogate', loneSurrogate],
  ]) {
    it(`POST /notes rejects ${what} in the title with 400 validation_failed`, async () => {
      const account = await registerUser()

      const res = await api('/notes', {
        token: account.accessToken,
        json: { title: title, body: 'fine' },
      })

      const body = await expectError(res, 400, 'validation_failed')
      expect(Object.keys(body.details ?? {})).toEqual(['title'])
    })
  }

  it('POST /notes keeps a well-formed surrogate pair and newlines in the body', async () => {
    const account = await registerUser()

    const res = await api('/notes', {
      token: account.accessToken,
      json: { title: 'emoji 🔐', body: 'line\nline 🔐' },
    })

    expect(res.status).toBe(201)
    expect((await res.json<{ note: { title: string; body: string } }>()).note).toMatchObject({
      title: 'emoji 🔐',
      body: 'line\nline 🔐',
    })
  })
})

describe('over-long strings', () => {
  const cases: [string, string, () => Promise<Response>][] = [
    [
      'email',
      '255 characters',
      () =>
        api('/auth/register', { json: registerBody({ email: `${'a'.repeat(243)}@example.com` }) }),
    ],
    [
      'password',
      '257 code points',
      () => api('/auth/register', { json: registerBody({ password: '🔐'.repeat(257) }) }),
    ],
    [
      'nickname',
      '51 characters',
      () => api('/auth/register', { json: registerBody({ nickname: 'n'.repeat(51) }) }),
    ],
    [
      'password',
      '1025 characters at login',
      () => api('/auth/login', { json: { email: uniqueEmail(), password: 'p'.repeat(1025) } }),
    ],
    [
      'refresh_token',
      '513 characters',
      () => api('/auth/refresh', { json: { refresh_token: 'r'.repeat(513) } }),
    ],
  ]
  for (const [field, what, send] of cases) {
    it(`rejects ${field} of ${what} with 400 validation_failed`, async () => {
      const body = await expectError(await send(), 400, 'validation_failed')
      expect(Object.keys(body.details ?? {})).toEqual([field])
    })
  }

  it('POST /notes rejects a 201-character title and a 10 001-character body with 400', async () => {
    const account = await registerUser()

    const res = await api('/notes', {
      token: account.accessToken,
      json: { title: 't'.repeat(201), body: 'b'.repeat(10_001) },
    })

    const body = await expectError(res, 400, 'validation_failed')
    expect(Object.keys(body.details ?? {}).sort()).toEqual(['body', 'title'])
  })

  it('POST /auth/login refuses an over-long password before spending a derivation on it', async () => {
    const res = await api('/auth/login', {
      json: { email: uniqueEmail(), password: 'p'.repeat(5000) },
    })

    await expectError(res, 400, 'validation_failed')
  })
})
