/**
 * A protected resource of the test's own (bookmarks), registered with createAuth as one entry of
 * `features`, the way docs/extending.md describes: its routes behind the session gate, its
 * validation and OpenAPI declaration, its own D1 table through the guarded binding, and its rows
 * deleted in the same transaction as their owner. Nothing else of the service is edited.
 */
import { env } from 'cloudflare:test'
import { Hono } from 'hono'
import type { Context } from 'hono'
import * as v from 'valibot'
import { beforeAll, describe, expect, it } from 'vitest'
import { coreDocs } from '../src/create-auth'
import type { AppEnv } from '../src/env'
import type { AuthFeature } from '../src/feature'
import { mount } from '../src/feature'
import { endpoint } from '../src/http/endpoint'
import type { RouteDocs } from '../src/http/endpoint'
import { boundedText } from '../src/http/schemas'
import { openApiDocumentOf } from '../src/openapi/document'
import { PASSWORD, uniqueEmail } from './helpers/accounts'
import { fetchApp, testAuth } from './helpers/create-auth'
import { expectError } from './helpers/requests'

interface Bookmark {
  id: string
  url: string
}

// The resource's adapter: in a real one, src/resources/bookmarks/adapters/d1.ts and a migration.
const bookmarkStore = (db: D1Database) => ({
  add: (userId: string, url: string) =>
    db
      .prepare(
        'INSERT INTO test_bookmarks (id, user_id, url) VALUES (?1, ?2, ?3) RETURNING id, url'
      )
      .bind(crypto.randomUUID(), userId, url)
      .first<Bookmark>(),
  list: async (userId: string) =>
    (
      await db
        .prepare('SELECT id, url FROM test_bookmarks WHERE user_id = ?1 ORDER BY rowid')
        .bind(userId)
        .all<Bookmark>()
    ).results,
})
type BookmarkStore = ReturnType<typeof bookmarkStore>

const Bookmark = v.object({ id: v.string(), url: v.string() })
const bookmarksOf = (c: Context<AppEnv>) => c.var.services.features.bookmarks as BookmarkStore

const bookmarkRoutes = new Hono<AppEnv>()
  .get('/', endpoint({ auth: true }), async (c) =>
    c.json({ bookmarks: await bookmarksOf(c).list(c.get('auth').userId) }, 200)
  )
  .post(
    '/',
    endpoint({
      auth: true,
      body: v.object({ url: boundedText('url', 1, 2000) }),
    }),
    async (c) => {
      const bookmark = await bookmarksOf(c).add(c.get('auth').userId, c.req.valid('json').url)
      return c.json({ bookmark: bookmark! }, 201)
    }
  )

/** The routes' docs, for the OpenAPI document (src/http/endpoint.ts). */
export const bookmarkRouteDocs = {
  'GET /bookmarks': {
    summary: "The user's bookmarks",
    tag: 'bookmarks',
    success: {
      status: 200,
      description: 'The bookmarks',
      body: v.object({ bookmarks: v.array(Bookmark) }),
    },
  },
  'POST /bookmarks': {
    summary: 'Add a bookmark',
    tag: 'bookmarks',
    success: {
      status: 201,
      description: 'The new bookmark',
      body: v.object({ bookmark: Bookmark }),
    },
    errors: ['service_unavailable'],
  },
} satisfies RouteDocs

const bookmarksResource = {
  id: 'bookmarks',
  routes: [mount('/bookmarks', bookmarkRoutes)],
  setup: (core) => ({
    services: bookmarkStore(core.ports.d1),
    onUserDeleted: (userId) => ({
      steps: [core.ports.d1.prepare('DELETE FROM test_bookmarks WHERE user_id = ?1').bind(userId)],
    }),
  }),
} satisfies AuthFeature

const auth = testAuth({ features: [bookmarksResource] })
const call = (path: string, options: Parameters<typeof fetchApp>[2] = {}) =>
  fetchApp(auth.app, path, options)

const register = async () => {
  const res = await call('/auth/register', { json: { email: uniqueEmail(), password: PASSWORD } })
  expect(res.status, await res.clone().text()).toBe(201)
  return (await res.json()) as { access_token: string; user: { id: string } }
}

const storedUrls = async (userId: string) =>
  (
    await env.DB.prepare('SELECT url FROM test_bookmarks WHERE user_id = ?1')
      .bind(userId)
      .all<{ url: string }>()
  ).results.map((row) => row.url)

beforeAll(async () => {
  await env.DB.prepare(
    'CREATE TABLE IF NOT EXISTS test_bookmarks (id TEXT PRIMARY KEY, user_id TEXT NOT NULL, url TEXT NOT NULL)'
  ).run()
})

describe('a protected resource registered as a feature', () => {
  it("serves its routes to a live session, each user's rows their own", async () => {
    const ada = await register()
    const bob = await register()

    const added = await call('/bookmarks', {
      token: ada.access_token,
      json: { url: 'https://example.com/a' },
    })
    expect(added.status).toBe(201)
    expect(await added.json()).toEqual({
      bookmark: { id: expect.any(String), url: 'https://example.com/a' },
    })

    const listed = await call('/bookmarks', { token: ada.access_token })
    expect(await listed.json()).toEqual({
      bookmarks: [{ id: expect.any(String), url: 'https://example.com/a' }],
    })
    expect(await (await call('/bookmarks', { token: bob.access_token })).json()).toEqual({
      bookmarks: [],
    })
    expect(await storedUrls(ada.user.id)).toEqual(['https://example.com/a'])
  })

  it('is behind the session gate: no token, a forged one, an ended session', async () => {
    const res = await call('/bookmarks')
    await expectError(res, 401, 'missing_token')
    expect(res.headers.get('WWW-Authenticate')).toMatch(/^Bearer/)

    await expectError(await call('/bookmarks', { token: 'not.a.jwt' }), 401, 'invalid_token')

    const ada = await register()
    const logout = await call('/auth/logout', { method: 'POST', token: ada.access_token })
    expect(logout.status).toBe(204)
    await expectError(await call('/bookmarks', { token: ada.access_token }), 401, 'token_revoked')
  })

  it("validates its body with the shared rules and answers the contract's errors", async () => {
    const ada = await register()
    const empty = await call('/bookmarks', { token: ada.access_token, json: {} })
    const body = await expectError(empty, 400, 'validation_failed')
    expect(body.details).toEqual({ url: 'url is required' })
    const control = await call('/bookmarks', { token: ada.access_token, json: { url: 'a\u0000b' } })
    await expectError(control, 400, 'validation_failed')
    const wrongMethod = await call('/bookmarks', { method: 'DELETE', token: ada.access_token })
    await expectError(wrongMethod, 405, 'method_not_allowed')
    expect(await storedUrls(ada.user.id)).toEqual([])
  })

  it("goes with its owner's account, in the deletion's own transaction", async () => {
    const ada = await register()
    await call('/bookmarks', { token: ada.access_token, json: { url: 'https://example.com/b' } })
    expect(await storedUrls(ada.user.id)).toHaveLength(1)

    const deleted = await call('/me', {
      method: 'DELETE',
      token: ada.access_token,
      json: { password: PASSWORD },
    })
    expect(deleted.status).toBe(204)
    expect(await storedUrls(ada.user.id)).toEqual([])
  })

  it('is in the OpenAPI document: its paths, security, tag and named schema', () => {
    const document = openApiDocumentOf(auth.app, [
      coreDocs,
      {
        routes: [bookmarkRouteDocs],
        tags: [{ name: 'bookmarks', description: 'Saved links.' }],
        schemas: { Bookmark },
      },
    ]) as {
      paths: Record<string, Record<string, { security: unknown[]; tags: string[] }>>
      tags: { name: string }[]
      components: { schemas: Record<string, unknown> }
    }
    expect(Object.keys(document.paths['/bookmarks']).sort()).toEqual(['get', 'post'])
    expect(document.paths['/bookmarks'].post.security).toEqual([
      { bearerAuth: [] },
      { cookieAuth: [] },
    ])
    expect(document.tags.map((tag) => tag.name)).toContain('bookmarks')
    expect(document.components.schemas.Bookmark).toBeDefined()
    // The service's own notes resource is a feature too: not in an app that did not register it.
    expect(document.paths['/notes']).toBeUndefined()
  })
})
