/** Request bodies on every JSON route: malformed, mistyped or oversized input is a clear 4xx, never a 5xx. */
import { SELF } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { registerUser } from './helpers/accounts'
import { BASE_URL, api, expectError } from './helpers/requests'

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

const JSON_HEADERS = { 'Content-Type': 'application/json' }

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
    const chunk = new TextEncoder().encode('x'.repeat(1024))
    let sent = 0
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent === 17) {
          controller.close()
          return
        }
        controller.enqueue(sent === 0 ? new TextEncoder().encode('{"p":"') : chunk)
        sent++
      },
    })
    const res = await send(route, path, headers, {
      body: stream,
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

  it('a protected route asks for the token before reading a malformed body', async () => {
    const res = await SELF.fetch(`${BASE_URL}/notes`, {
      method: 'POST',
      body: '{"a":',
      headers: JSON_HEADERS,
    })
    await expectErrorBody(res, 401, 'missing_token')
  })
})
