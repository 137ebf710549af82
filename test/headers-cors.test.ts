/** Security headers on every kind of response, and CORS only for the origins CORS_ORIGINS lists. */
import { env } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { setSecurityHeaders } from '../src/http/security-headers'
import { registerUser } from './helpers/accounts'
import { BASE_URL, callAppWith } from './helpers/requests'
import { FaultyStorage } from './helpers/storage-faults'

const ALLOWED = 'https://app.example.com'
const OTHER = 'https://evil.example.net'

/** Calls the app with some vars replaced, as a deployment with other settings would. */
const fetchWith = (
  vars: Record<string, string | undefined>,
  path: string,
  init: RequestInit = {}
) => callAppWith({ ...env, ...vars }, new Request(`${BASE_URL}${path}`, init))

const preflight = (origin: string): RequestInit => ({
  method: 'OPTIONS',
  headers: {
    Origin: origin,
    'Access-Control-Request-Method': 'POST',
    'Access-Control-Request-Headers': 'authorization, content-type',
  },
})

const corsHeaders = (res: Response) =>
  [...res.headers.keys()].filter((name) => name.startsWith('access-control-'))

describe('security headers', () => {
  // The contract allows 404 or 405 for a wrong method on a known path.
  const cases: [string, () => Promise<Response>, number | number[]][] = [
    ['a 200', () => fetchWith({}, '/health'), 200],
    [
      'a 201 token response',
      () =>
        fetchWith({}, '/auth/register', {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({
            email: `h${crypto.randomUUID()}@example.com`,
            password: 'long enough pass',
          }),
        }),
      201,
    ],
    [
      'a 204',
      async () => {
        const account = await registerUser()
        return fetchWith({}, '/auth/logout', {
          method: 'POST',
          headers: { Authorization: `Bearer ${account.accessToken}` },
        })
      },
      204,
    ],
    [
      'a 400',
      () =>
        fetchWith({}, '/auth/login', {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: '[',
        }),
      400,
    ],
    ['a 401', () => fetchWith({}, '/me'), 401],
    ['a 404', () => fetchWith({}, '/no/such/path'), 404],
    ['a wrong method', () => fetchWith({}, '/health', { method: 'DELETE' }), [404, 405]],
    [
      'a 413',
      () =>
        fetchWith({}, '/auth/login', {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: 'x'.repeat(17_000),
        }),
      413,
    ],
    [
      'a 415',
      () =>
        fetchWith({}, '/auth/login', {
          method: 'POST',
          headers: { 'Content-Type': 'text/plain' },
          body: '{}',
        }),
      415,
    ],
    [
      'a 500 for a missing secret',
      () =>
        fetchWith({ JWT_SECRET: undefined }, '/me', { headers: { Authorization: 'Bearer x.y.z' } }),
      500,
    ],
    [
      'a 503',
      () =>
        new FaultyStorage({ failAt: 1 }).fetch('/auth/login', {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ email: 'a@example.com', password: 'whatever!' }),
        }),
      503,
    ],
    [
      'a CORS preflight',
      () => fetchWith({ CORS_ORIGINS: ALLOWED }, '/auth/login', preflight(ALLOWED)),
      204,
    ],
  ]

  for (const [what, send, status] of cases) {
    it(`sets nosniff, frame and referrer headers on ${what}`, async () => {
      const res = await send()

      expect([status].flat(), await res.clone().text()).toContain(res.status)
      expect(res.headers.get('X-Content-Type-Options')).toBe('nosniff')
      expect(res.headers.get('X-Frame-Options')).toBe('SAMEORIGIN')
      expect(res.headers.get('Referrer-Policy')).toBe('no-referrer')
      expect(res.headers.get('Strict-Transport-Security')).toMatch(/max-age=\d+/)
      expect(res.headers.get('Cache-Control')).toBe('no-store')
      expect(res.headers.get('X-Request-Id')).toMatch(/^[A-Za-z0-9-]{8,64}$/)
    })
  }

  // Headers that only a rendered document or a followed redirect heeds (security-headers.ts).
  const DOCUMENT_ONLY = [
    'Cross-Origin-Opener-Policy',
    'Origin-Agent-Cluster',
    'X-DNS-Prefetch-Control',
    'X-Download-Options',
    'X-Permitted-Cross-Domain-Policies',
    'X-XSS-Protection',
  ]

  it('puts the document-only headers on an HTML page', async () => {
    const res = await fetchWith({}, '/docs')

    expect(res.status).toBe(200)
    expect(res.headers.get('Content-Type')).toMatch(/^text\/html/)
    expect(res.headers.get('Cross-Origin-Opener-Policy')).toBe('same-origin')
    expect(res.headers.get('Origin-Agent-Cluster')).toBe('?1')
    expect(res.headers.get('X-DNS-Prefetch-Control')).toBe('off')
    expect(res.headers.get('X-Download-Options')).toBe('noopen')
    expect(res.headers.get('X-Permitted-Cross-Domain-Policies')).toBe('none')
    expect(res.headers.get('X-XSS-Protection')).toBe('0')
    // The page's own, stricter policy (public/_headers) is kept, not replaced by the API's.
    expect(res.headers.get('X-Frame-Options')).toBe('DENY')
  })

  it.each(['Text/HTML; charset=utf-8', 'TEXT/HTML', 'application/xhtml+xml'])(
    'reads a %s answer as a page (media types are case-insensitive)',
    (type) => {
      const headers = new Headers({ 'Content-Type': type })
      setSecurityHeaders(headers, 200)
      expect(headers.get('Cross-Origin-Opener-Policy')).toBe('same-origin')
      expect(headers.get('X-XSS-Protection')).toBe('0')
    }
  )

  it('leaves them off a JSON answer, which no browser renders as a document', async () => {
    for (const res of [await fetchWith({}, '/health'), await fetchWith({}, '/me')]) {
      expect(res.headers.get('Content-Type')).toMatch(/^application\/json/)
      for (const name of DOCUMENT_ONLY) expect(res.headers.get(name), name).toBeNull()
      expect(res.headers.get('Cross-Origin-Resource-Policy')).toBe('same-site')
    }
  })

  it('answers errors as JSON, never as HTML a browser could render', async () => {
    for (const res of [await fetchWith({}, '/nope'), await fetchWith({}, '/me')]) {
      expect(res.headers.get('Content-Type')).toMatch(/^application\/json/)
    }
  })
})

describe('cacheable public responses', () => {
  const PUBLIC_PATHS = [
    '/.well-known/jwks.json',
    '/.well-known/oauth-authorization-server',
    '/openapi.json',
  ]

  it("say Vary: Origin, once, to every request: a shared cache must not hand one origin's copy to another", async () => {
    const requests: [Record<string, string>, Record<string, string>][] = [
      [{ CORS_ORIGINS: ALLOWED }, {}],
      [{ CORS_ORIGINS: ALLOWED }, { Origin: ALLOWED }],
      [{ CORS_ORIGINS: ALLOWED }, { Origin: OTHER }],
      [{}, {}],
    ]
    for (const path of PUBLIC_PATHS) {
      for (const [vars, headers] of requests) {
        const res = await fetchWith(vars, path, { headers })
        const context = `${path} ${JSON.stringify(headers)}`
        expect(res.status, context).toBe(200)
        expect(res.headers.get('Cache-Control'), context).toMatch(/^public/)
        const vary = (res.headers.get('Vary') ?? '').split(',').map((name) => name.trim())
        expect(
          vary.filter((name) => name.toLowerCase() === 'origin'),
          context
        ).toEqual(['Origin'])
      }
    }
  })
})

describe('CORS', () => {
  it('answers a preflight from a listed origin with the allow headers', async () => {
    const res = await fetchWith(
      { CORS_ORIGINS: `https://other.example.org, ${ALLOWED}` },
      '/auth/login',
      preflight(ALLOWED)
    )

    expect(res.status).toBe(204)
    expect(res.headers.get('Access-Control-Allow-Origin')).toBe(ALLOWED)
    expect(res.headers.get('Access-Control-Allow-Methods')).toContain('POST')
    expect(res.headers.get('Access-Control-Allow-Headers')?.toLowerCase()).toContain(
      'authorization'
    )
    expect(res.headers.get('Access-Control-Allow-Headers')?.toLowerCase()).toContain('content-type')
    expect(res.headers.get('Access-Control-Max-Age')).toMatch(/^\d+$/)
    expect(res.headers.get('Vary')).toContain('Origin')
  })

  it('gives a preflight from an unlisted origin no CORS header at all', async () => {
    const res = await fetchWith({ CORS_ORIGINS: ALLOWED }, '/auth/login', preflight(OTHER))

    expect(corsHeaders(res)).toEqual([])
    expect(res.status).toBeGreaterThanOrEqual(400)
    expect(res.status).toBeLessThan(500)
    expect(res.headers.get('Vary')).toContain('Origin')
  })

  it('gives no CORS header to any origin by default', async () => {
    for (const origin of [ALLOWED, OTHER, 'null']) {
      const res = await fetchWith({}, '/auth/login', preflight(origin))
      expect(corsHeaders(res), origin).toEqual([])
      const simple = await fetchWith({}, '/health', { headers: { Origin: origin } })
      expect(corsHeaders(simple), origin).toEqual([])
    }
  })

  it('matches origins exactly, not by prefix, suffix or case of the list entry', async () => {
    for (const origin of [
      `${ALLOWED}.evil.net`,
      'https://evil-app.example.com',
      'http://app.example.com',
      `${ALLOWED}:444`,
      'null',
    ]) {
      const res = await fetchWith({ CORS_ORIGINS: ALLOWED }, '/auth/login', preflight(origin))
      expect(corsHeaders(res), origin).toEqual([])
    }
  })

  it('exposes Retry-After, WWW-Authenticate and X-Request-Id to a listed origin on actual requests', async () => {
    const res = await fetchWith({ CORS_ORIGINS: ALLOWED }, '/me', { headers: { Origin: ALLOWED } })

    expect(res.status).toBe(401)
    expect(res.headers.get('Access-Control-Allow-Origin')).toBe(ALLOWED)
    const exposed = res.headers.get('Access-Control-Expose-Headers')?.toLowerCase() ?? ''
    for (const name of ['retry-after', 'www-authenticate', 'x-request-id']) {
      expect(exposed).toContain(name)
    }
    expect(res.headers.get('Vary')).toContain('Origin')
  })

  it('gives an actual request from an unlisted origin no CORS header', async () => {
    const res = await fetchWith({ CORS_ORIGINS: ALLOWED }, '/health', {
      headers: { Origin: OTHER },
    })

    expect(res.status).toBe(200)
    expect(corsHeaders(res)).toEqual([])
  })
})
