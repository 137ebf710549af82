/**
 * Request bodies: on every JSON route, malformed, mistyped, mislabelled or oversized input is a
 * clear 4xx, never a 5xx; and the hostile cases (streamed megabytes, deep nesting, prototype
 * keys, NUL bytes and lone surrogates, over-long strings) get the same.
 */
import { SELF, env } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { PASSWORD, registerUser, uniqueEmail } from './helpers/accounts'
import { BASE_URL, api, callAppWith, expectError } from './helpers/requests'

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
  password: PASSWORD,
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

interface JsonRoute {
  name: string
  method: string
  /** The route's path, given the id of a note of the caller's. */
  path: (noteId: string) => string
  auth: boolean
  /** A body whose only fault is one field of the wrong type. */
  mistyped: Record<string, unknown>
  field: string
}

const ROUTES: JsonRoute[] = [
  {
    name: 'POST /auth/register',
    method: 'POST',
    path: () => '/auth/register',
    auth: false,
    mistyped: { email: 42, password: 'long enough password' },
    field: 'email',
  },
  {
    name: 'POST /auth/login',
    method: 'POST',
    path: () => '/auth/login',
    auth: false,
    mistyped: { email: 'ada@example.com', password: ['a', 'list'] },
    field: 'password',
  },
  {
    name: 'POST /auth/refresh',
    method: 'POST',
    path: () => '/auth/refresh',
    auth: false,
    mistyped: { refresh_token: { nested: true } },
    field: 'refresh_token',
  },
  {
    name: 'POST /auth/logout',
    method: 'POST',
    path: () => '/auth/logout',
    auth: true,
    mistyped: { refresh_token: 12345 },
    field: 'refresh_token',
  },
  {
    name: 'PATCH /me',
    method: 'PATCH',
    path: () => '/me',
    auth: true,
    mistyped: { nickname: false },
    field: 'nickname',
  },
  {
    name: 'POST /notes',
    method: 'POST',
    path: () => '/notes',
    auth: true,
    mistyped: { title: ['t'], body: 'b' },
    field: 'title',
  },
  {
    name: 'PATCH /notes/:id',
    method: 'PATCH',
    path: (noteId) => `/notes/${noteId}`,
    auth: true,
    mistyped: { body: 7 },
    field: 'body',
  },
]

/** A caller for the route: a fresh account's token and note where the route needs them. */
const setUp = async (route: JsonRoute) => {
  if (!route.auth) return { path: route.path(''), headers: {} as Record<string, string> }
  const account = await registerUser()
  const created = await api('/notes', {
    token: account.accessToken,
    json: { title: 'mine', body: '' },
  })
  const { note } = await created.json<{ note: { id: string } }>()
  return { path: route.path(note.id), headers: { Authorization: `Bearer ${account.accessToken}` } }
}

/** The contract's error body and nothing more: error, message, and details only where they apply. */
const expectErrorBody = async (res: Response, status: number, code: string) => {
  const clone = res.clone()
  expect(res.status, await clone.text()).toBeLessThan(500)
  const body = await expectError(res, status, code)
  const keys = Object.keys(body).sort()
  if (code === 'validation_failed') expect(keys).toEqual(['details', 'error', 'message'])
  else expect(keys).toEqual(['error', 'message'])
  return body
}

const send = (route: JsonRoute, path: string, headers: Record<string, string>, init: RequestInit) =>
  SELF.fetch(`${BASE_URL}${path}`, {
    method: route.method,
    ...init,
    headers: { ...headers, ...init.headers },
  })

describe.each(ROUTES)('$name', (route) => {
  it('answers malformed JSON with 400 invalid_json', async () => {
    const { path, headers } = await setUp(route)
    for (const text of ['{"a":', '{a: 1}', "{'a': 1}", '{"a": 1,}', '\u0000', 'nul']) {
      const res = await send(route, path, headers, { body: text, headers: JSON_HEADERS })
      await expectErrorBody(res, 400, 'invalid_json')
    }
  })

  it.each([
    ['an array', '[]'],
    ['an array of objects', '[{"title":"t"}]'],
    ['null', 'null'],
    ['a string', '"text"'],
    ['a number', '42'],
    ['true', 'true'],
  ])('answers JSON that is %s with 400 invalid_json', async (_, text) => {
    const { path, headers } = await setUp(route)
    await expectErrorBody(
      await send(route, path, headers, { body: text, headers: JSON_HEADERS }),
      400,
      'invalid_json'
    )
  })

  it('answers a field of the wrong type with 400 validation_failed naming that field', async () => {
    const { path, headers } = await setUp(route)
    const res = await send(route, path, headers, {
      body: JSON.stringify(route.mistyped),
      headers: JSON_HEADERS,
    })
    const body = await expectErrorBody(res, 400, 'validation_failed')
    expect(Object.keys(body.details ?? {})).toContain(route.field)
    expect(body.details?.[route.field]).toMatch(/\S/)
  })

  it('answers a text/plain body with 415 unsupported_media_type', async () => {
    const { path, headers } = await setUp(route)
    const res = await send(route, path, headers, {
      body: JSON.stringify(route.mistyped),
      headers: { 'Content-Type': 'text/plain' },
    })
    await expectErrorBody(res, 415, 'unsupported_media_type')
  })

  it('answers a look-alike media type (application/jsonx) with 415', async () => {
    const { path, headers } = await setUp(route)
    const res = await send(route, path, headers, {
      body: JSON.stringify(route.mistyped),
      headers: { 'Content-Type': 'application/jsonx' },
    })
    await expectErrorBody(res, 415, 'unsupported_media_type')
  })

  it('answers a JSON media type named only in a parameter (text/plain; x=application/json) with 415', async () => {
    const { path, headers } = await setUp(route)
    const res = await send(route, path, headers, {
      body: JSON.stringify(route.mistyped),
      headers: { 'Content-Type': 'text/plain; x=application/json' },
    })
    await expectErrorBody(res, 415, 'unsupported_media_type')
  })

  it('answers a body without Content-Type with 415', async () => {
    const { path, headers } = await setUp(route)
    // Bytes, not a string: fetch would label a string text/plain on its own.
    const res = await send(route, path, headers, {
      body: new TextEncoder().encode(JSON.stringify(route.mistyped)),
    })
    await expectErrorBody(res, 415, 'unsupported_media_type')
  })

  it('accepts application/json with a charset parameter (and fails only on content)', async () => {
    const { path, headers } = await setUp(route)
    const res = await send(route, path, headers, {
      body: JSON.stringify(route.mistyped),
      headers: { 'Content-Type': 'application/json; charset=utf-8' },
    })
    await expectErrorBody(res, 400, 'validation_failed')
  })

  it('answers a 17 KiB body with Content-Length with 413 payload_too_large', async () => {
    const { path, headers } = await setUp(route)
    const body = JSON.stringify({ padding: 'x'.repeat(17 * 1024) })
    const res = await send(route, path, headers, {
      body,
      headers: { ...JSON_HEADERS, 'Content-Length': String(body.length) },
    })
    await expectErrorBody(res, 413, 'payload_too_large')
  })

  it('answers a 17 KiB body streamed without Content-Length with 413 payload_too_large', async () => {
    const { path, headers } = await setUp(route)
    const res = await send(route, path, headers, {
      body: streamOf(`{"p":"${'x'.repeat(16 * 1024)}`),
      headers: JSON_HEADERS,
      duplex: 'half',
    } as RequestInit)
    await expectErrorBody(res, 413, 'payload_too_large')
  })
})

describe('the same faults without a token', () => {
  it('a protected route refuses a 17 KiB body with 413 before asking for a token', async () => {
    const body = JSON.stringify({ title: 'x'.repeat(17 * 1024), body: '' })
    const res = await SELF.fetch(`${BASE_URL}/notes`, {
      method: 'POST',
      body,
      headers: JSON_HEADERS,
    })
    await expectErrorBody(res, 413, 'payload_too_large')
  })

  // BASE_URL is no loopback Host, so the dev outbox is off, as when deployed: 404 to any method.
  it('the dev outbox, off, refuses a 17 KiB body with 413 like any path', async () => {
    const declared = await api('/dev/outbox', {
      body: 'x'.repeat(LIMIT + 1),
      headers: JSON_HEADERS,
    })
    await expectErrorBody(declared, 413, 'payload_too_large')
    const streamed = await api('/dev/outbox', {
      body: streamOf(`{"p":"${'x'.repeat(LIMIT)}"}`),
      headers: JSON_HEADERS,
    })
    await expectErrorBody(streamed, 413, 'payload_too_large')
    await expectErrorBody(await api('/dev/outbox', { json: {} }), 404, 'not_found')
  })

  it('a protected route asks for the token before reading a malformed body', async () => {
    const res = await SELF.fetch(`${BASE_URL}/notes`, {
      method: 'POST',
      body: '{"a":',
      headers: JSON_HEADERS,
    })
    await expectErrorBody(res, 401, 'missing_token')
  })
})

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

describe('an oversized body without Content-Length, read in the Worker itself', () => {
  it('is read to its end before the 413 leaves, so that the connection is at a request boundary', async () => {
    // app.fetch in this isolate reads the test's own stream: every pull is seen here.
    const chunk = encoder.encode('x'.repeat(4096))
    const chunks = 64 // 256 KiB, far past the 16 KiB limit
    let pulled = 0
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (pulled === chunks) {
          controller.close()
          return
        }
        pulled++
        controller.enqueue(pulled === 1 ? encoder.encode('{"email":"') : chunk)
      },
    })
    const res = await callAppWith(
      env,
      new Request(`${BASE_URL}/auth/login`, {
        method: 'POST',
        headers: JSON_HEADERS,
        body,
        duplex: 'half',
      } as RequestInit)
    )
    await expectError(res, 413, 'payload_too_large')
    expect(pulled).toBe(chunks)
  })
})

describe('body shape', () => {
  // An array, null, a number or true on POST /auth/register: see the table of every JSON route.
  it('POST /auth/register refuses JSON that is a string with 400 invalid_json', async () => {
    await expectError(
      await api('/auth/register', { body: '"hello"', headers: JSON_HEADERS }),
      400,
      'invalid_json'
    )
  })

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
      'mfa',
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
