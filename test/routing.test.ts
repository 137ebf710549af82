/** Routing: the JSON 404 and 405 for paths and methods that name no route, and GET /health. */
import { describe, expect, it } from 'vitest'
import { registerUser } from './helpers/accounts'
import { api, expectError } from './helpers/requests'

describe('routing', () => {
  it('answers 405 with Allow for a known path and a wrong method, before asking for a token', async () => {
    const res = await api('/notes', { method: 'PUT' })
    await expectError(res, 405, 'method_not_allowed')
    expect(res.headers.get('Allow')).toBe('GET, HEAD, POST')
  })

  it('answers 405 for a parameterized path with a wrong method', async () => {
    const res = await api('/notes/some-id', { method: 'POST' })
    await expectError(res, 405, 'method_not_allowed')
    expect(res.headers.get('Allow')).toBe('DELETE, GET, HEAD, PATCH')
  })

  it('answers 405 for GET on a POST-only auth route', async () => {
    const res = await api('/auth/login')
    await expectError(res, 405, 'method_not_allowed')
    expect(res.headers.get('Allow')).toBe('POST')
  })

  it('answers 404 not_found as JSON for an unknown path', async () => {
    await expectError(await api('/nothing/here'), 404, 'not_found')
    await expectError(await api('/notes/a/b'), 404, 'not_found')
  })

  it('answers 404 for a trailing slash, which names no route, whatever the method', async () => {
    const account = await registerUser()
    for (const method of ['GET', 'POST', 'PATCH', 'DELETE']) {
      await expectError(
        await api('/notes/', { method, token: account.accessToken }),
        404,
        'not_found'
      )
      await expectError(await api('/me/', { method, token: account.accessToken }), 404, 'not_found')
    }
  })

  it('resolves dot segments as URLs do before routing: /notes/. and /notes/%2e are /notes/', async () => {
    const account = await registerUser()
    for (const path of ['/notes/.', '/notes/%2e', '/notes/%2E', '/notes/x/..', '/notes/x/%2e%2e']) {
      for (const method of ['GET', 'PATCH', 'DELETE']) {
        const res = await api(path, { method, token: account.accessToken })
        await expectError(res, 404, 'not_found')
      }
    }
    const listed = await api('/./notes', { token: account.accessToken })
    expect(listed.status).toBe(200)
    expect(await listed.json()).toEqual({ notes: [] })
  })

  it('still serves the allowed methods of a known path', async () => {
    const account = await registerUser()
    const res = await api('/notes', { token: account.accessToken })
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ notes: [] })
  })

  it('an unknown path is 404 not_found in JSON', async () => {
    const res = await api('/no/such/path')
    const body = await expectError(res, 404, 'not_found')
    expect(Object.keys(body).sort()).toEqual(['error', 'message'])
  })

  it.each([
    ['PUT', '/health'],
    ['DELETE', '/health'],
    ['GET', '/auth/register'],
    ['GET', '/auth/login'],
    ['PUT', '/notes'],
    ['PUT', '/me'],
  ])('%s %s (a known path, wrong method) is a 404 or 405 JSON error', async (method, path) => {
    const res = await api(path, { method })
    expect([404, 405]).toContain(res.status)
    await expectError(res, res.status, res.status === 404 ? 'not_found' : 'method_not_allowed')
  })

  it.each(['/notes/a/b', '/me/extra', '/auth/sessions/a/b'])(
    '%s (under a protected prefix, but no route) is 404 not_found, not a 401',
    async (path) => {
      await expectError(await api(path), 404, 'not_found')
    }
  )

  it('a wrong method on a protected path is a 404 or 405 with a valid token too', async () => {
    const account = await registerUser()
    for (const [method, path] of [
      ['PUT', '/notes'],
      ['POST', '/me'],
      ['PUT', '/notes/some-id'],
    ]) {
      const res = await api(path, { method, token: account.accessToken })
      expect([404, 405], `${method} ${path}`).toContain(res.status)
      await expectError(res, res.status, res.status === 404 ? 'not_found' : 'method_not_allowed')
    }
  })
})

describe('GET /health', () => {
  it('answers 200 {"status":"ok"}', async () => {
    const res = await api('/health')
    expect(res.status).toBe(200)
    expect(res.headers.get('X-Content-Type-Options')).toBe('nosniff')
    expect(await res.json()).toEqual({ status: 'ok' })
  })
})
