/**
 * Property-based tests: arbitrary bodies, content types and bearer tokens sent to every route
 * never produce a 5xx, and every error keeps the contract's shape.
 */
import { SELF } from 'cloudflare:test'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { app } from '../src/index'
import { registerUser } from './helpers/accounts'
import { BASE_URL } from './helpers/requests'

// Modest run counts: the suite shares two cores, and some inputs reach a password derivation.
const RUNS = { numRuns: 100 }

/** Every endpoint the app registers, with its path parameters left to fill. */
const endpoints = app.routes
  .filter((route) => route.method !== 'ALL' && !route.path.includes('*'))
  .map((route) => ({ method: route.method, path: route.path }))
  .filter(
    (route, i, all) =>
      all.findIndex((r) => r.method === route.method && r.path === route.path) === i
  )

// /auth/password is protected; /auth/password/forgot and /auth/password/reset are public.
const PROTECTED = /^\/(me|notes|auth\/(logout|logout-all|sessions))(\/|$)|^\/auth\/password$/

const ERROR_FIELDS = new Set(['error', 'message', 'details'])
const OAUTH_ERROR_FIELDS = new Set(['error', 'error_description', 'error_uri'])

const printable = fc.string({ unit: 'grapheme-ascii', maxLength: 80 })
// A segment that is a path parameter's value. "." and ".." are dot segments that URL parsing
// removes (the path then names another route), so they are left to routing.test.ts.
const pathSegment = fc.oneof(
  fc.uuid(),
  fc.stringMatching(/^[A-Za-z0-9_.~-]{1,40}$/).filter((s) => s !== '.' && s !== '..')
)
const endpoint = fc.record({
  route: fc.constantFrom(...endpoints),
  segment: pathSegment,
})
const contentType = fc.oneof(
  fc.constantFrom(
    'application/json',
    'application/json; charset=utf-8',
    'application/merge-patch+json',
    'APPLICATION/JSON',
    'text/plain',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=x',
    'application/xml',
    ''
  ),
  printable
)
/** Objects with the field names the routes read, holding anything. */
const nearValidBody = fc.record(
  {
    email: fc.oneof(fc.emailAddress(), fc.string(), fc.jsonValue()),
    password: fc.oneof(fc.string({ minLength: 8 }), fc.jsonValue()),
    nickname: fc.oneof(fc.string(), fc.jsonValue()),
    refresh_token: fc.oneof(fc.base64String(), fc.string(), fc.jsonValue()),
    current_password: fc.string(),
    new_password: fc.string(),
    title: fc.oneof(fc.string({ unit: 'binary' }), fc.jsonValue()),
    body: fc.oneof(fc.string({ unit: 'binary' }), fc.jsonValue()),
    __proto__: fc.jsonValue(),
    grant_type: fc.constantFrom('refresh_token', 'password', 'x'),
  },
  { requiredKeys: [] }
)
const jsonText = fc.oneof(
  fc.json({ maxDepth: 4 }),
  nearValidBody.map((value) => JSON.stringify(value))
)
const rawBody = fc.oneof(
  jsonText,
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.uint8Array({ maxLength: 200 })
)

const urlFor = (route: { path: string }, segment: string) =>
  `${BASE_URL}${route.path.replace(/:[A-Za-z_]+/g, encodeURIComponent(segment))}`

/** The contract's answer: below 500, nosniff, and errors in the right one of the two shapes. */
const expectContractAnswer = async (res: Response, path: string, context: string) => {
  const text = await res.text()
  expect(res.status, `${context} -> ${res.status} ${text}`).toBeLessThan(500)
  expect(res.headers.get('X-Content-Type-Options'), context).toBe('nosniff')
  if (res.status === 204 || res.status === 304 || text === '') return
  expect(res.headers.get('Content-Type'), context).toMatch(/^application\/json/)
  const body = JSON.parse(text)
  if (res.status < 400) return
  const oauth = path.startsWith('/oauth/')
  const fields = oauth ? OAUTH_ERROR_FIELDS : ERROR_FIELDS
  for (const key of Object.keys(body)) {
    expect(fields.has(key), `${context}: field ${key} in ${text}`).toBe(true)
  }
  expect(typeof body.error, context).toBe('string')
  const sentence = oauth ? body.error_description : body.message
  expect(typeof sentence === 'string' && sentence.length > 0, `${context}: ${text}`).toBe(true)
  if (body.details !== undefined) {
    for (const value of Object.values(body.details)) expect(typeof value, context).toBe('string')
  }
  if (res.status === 401 && PROTECTED.test(path) && !oauth) {
    expect(res.headers.get('WWW-Authenticate'), context).toMatch(/^Bearer\b/)
  }
}

describe('fuzzing every route', () => {
  it('lists the routes it fuzzes', () => {
    const paths = endpoints.map((route) => `${route.method} ${route.path}`)
    expect(paths).toEqual(
      expect.arrayContaining([
        'POST /auth/register',
        'POST /auth/login',
        'DELETE /notes/:id',
        'PATCH /me',
      ])
    )
  })

  it('answers arbitrary JSON bodies on every route within the contract', async () => {
    await fc.assert(
      fc.asyncProperty(endpoint, jsonText, async ({ route, segment }, body) => {
        const hasBody = route.method !== 'GET'
        const res = await SELF.fetch(urlFor(route, segment), {
          method: route.method,
          headers: { 'Content-Type': 'application/json' },
          body: hasBody ? body : undefined,
        })
        await expectContractAnswer(
          res,
          route.path,
          `${route.method} ${route.path} ${body.slice(0, 200)}`
        )
      }),
      RUNS
    )
  })

  it('answers arbitrary bytes under arbitrary content types on every route within the contract', async () => {
    await fc.assert(
      fc.asyncProperty(endpoint, rawBody, contentType, async ({ route, segment }, body, type) => {
        const headers = new Headers()
        if (type !== '') headers.set('Content-Type', type)
        const res = await SELF.fetch(urlFor(route, segment), {
          method: route.method,
          headers,
          body: route.method === 'GET' ? undefined : body,
        })
        await expectContractAnswer(res, route.path, `${route.method} ${route.path} [${type}]`)
      }),
      RUNS
    )
  })

  it('answers arbitrary strings as bearer tokens with a 401 on every protected route', async () => {
    const forgedJwt = fc
      .tuple(fc.json(), fc.json(), fc.base64String())
      .map(
        ([header, payload, signature]) =>
          [header, payload].map((part) => btoa(unescape(encodeURIComponent(part)))).join('.') +
          `.${signature}`
      )
    const token = fc.oneof(
      printable,
      fc.stringMatching(/^[A-Za-z0-9_-]{0,60}(\.[A-Za-z0-9_=-]{0,60}){0,4}$/),
      forgedJwt
    )
    const scheme = fc.constantFrom('Bearer ', 'bearer  ', 'Bearer', 'Basic ', '')
    const protectedRoutes = endpoints.filter((route) => PROTECTED.test(route.path))

    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...protectedRoutes),
        pathSegment,
        scheme,
        token,
        async (route, segment, prefix, value) => {
          const authorization = `${prefix}${value}`.trim()
          const headers = new Headers({ 'Content-Type': 'application/json' })
          if (authorization !== '') headers.set('Authorization', authorization)
          const res = await SELF.fetch(urlFor(route, segment), {
            method: route.method,
            headers,
            body: route.method === 'GET' ? undefined : '{}',
          })
          const context = `${route.method} ${route.path} Authorization: ${authorization}`
          expect(res.status, context).toBe(401)
          await expectContractAnswer(res, route.path, context)
        }
      ),
      RUNS
    )
  })

  it('answers arbitrary bodies from a signed-in user within the contract', async () => {
    const account = await registerUser()
    // Ending the session would leave the remaining runs testing only the 401 path.
    const routes = endpoints.filter(
      (route) =>
        PROTECTED.test(route.path) &&
        !route.path.startsWith('/auth/logout') &&
        !(route.method === 'DELETE' && route.path === '/me')
    )

    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...routes),
        pathSegment,
        jsonText,
        async (route, segment, body) => {
          const res = await SELF.fetch(urlFor(route, segment), {
            method: route.method,
            headers: {
              'Content-Type': 'application/json',
              Authorization: `Bearer ${account.accessToken}`,
            },
            body: route.method === 'GET' ? undefined : body,
          })
          const context = `${route.method} ${route.path} ${body.slice(0, 200)}`
          expect(res.status, context).not.toBe(401)
          await expectContractAnswer(res, route.path, context)
        }
      ),
      // Fewer runs: valid-looking bodies here reach password derivations.
      { numRuns: 60 }
    )
  })
})
