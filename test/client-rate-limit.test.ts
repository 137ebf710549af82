/**
 * The per-client limit. wrangler.toml declares it (CLIENT_RATE_LIMIT_MODE=required and a
 * [[ratelimits]] binding); the suite runs with it off, so each test here turns it back on, mostly
 * with a small stand-in of the binding's interface (`limit({ key })` → `{ success }`).
 */
import { env } from 'cloudflare:test'
import { describe, expect, it, vi } from 'vitest'
import { clientKey } from '../src/http/client-rate-limit'
import { BASE_URL, api, callAppWith, expectError } from './helpers/requests'

/** Allows `limit` calls per key, then refuses; remembers the keys it was asked about. */
const fakeLimiter = (limit: number) => {
  const counts = new Map<string, number>()
  return {
    keys: [] as string[],
    async limit({ key }: { key: string }) {
      this.keys.push(key)
      counts.set(key, (counts.get(key) ?? 0) + 1)
      return { success: (counts.get(key) ?? 0) <= limit }
    },
  }
}

const send = async (bindings: Record<string, unknown>, path: string, ip?: string) => {
  const headers = new Headers({ 'Content-Type': 'application/json' })
  if (ip) headers.set('CF-Connecting-IP', ip)
  const request = new Request(`${BASE_URL}${path}`, { method: 'POST', headers, body: '{}' })
  return callAppWith({ ...env, CLIENT_RATE_LIMIT_MODE: 'required', ...bindings }, request)
}

describe('per-client rate limit', () => {
  it("is on in the configuration a deployment starts from: wrangler.toml's limiter refuses the 31st request of a minute", async () => {
    expect(env.TEST_WRANGLER_VARS.CLIENT_RATE_LIMIT_MODE).toBe('required')
    // The binding itself is wrangler.toml's [[ratelimits]], simulated locally.
    const asDeployed = { ...env, ...env.TEST_WRANGLER_VARS }
    const statuses: number[] = []
    for (let i = 0; i < 31; i++) {
      const request = new Request(`${BASE_URL}/auth/login`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'CF-Connecting-IP': '198.51.100.31' },
        body: '{}',
      })
      statuses.push((await callAppWith(asDeployed, request)).status)
    }
    expect(statuses).toEqual([...Array<number>(30).fill(400), 429])
  })

  it.each(['/auth/login', '/auth/register', '/auth/password/forgot', '/me'])(
    'with CLIENT_RATE_LIMIT_MODE=required and no binding, %s is 500 server_misconfigured, not unlimited',
    async (path) => {
      vi.spyOn(console, 'error').mockImplementation(() => {})
      await expectError(
        await send({ CLIENT_RATE_LIMIT: undefined }, path, '192.0.2.1'),
        500,
        'server_misconfigured'
      )
    }
  )

  it('refuses a mode other than required or off', async () => {
    vi.spyOn(console, 'error').mockImplementation(() => {})
    await expectError(
      await send({ CLIENT_RATE_LIMIT_MODE: 'maybe' }, '/auth/login', '192.0.2.1'),
      500,
      'server_misconfigured'
    )
  })

  it('is off with CLIENT_RATE_LIMIT_MODE=off, as in local development and the tests, even with a binding', async () => {
    const limiter = fakeLimiter(0)
    expect(
      (
        await send(
          { CLIENT_RATE_LIMIT_MODE: 'off', CLIENT_RATE_LIMIT: limiter },
          '/auth/login',
          '192.0.2.1'
        )
      ).status
    ).toBe(400)
    expect(limiter.keys).toEqual([])
    for (let i = 0; i < 30; i++) {
      await expectError(
        await api('/auth/refresh', { json: {}, headers: { 'CF-Connecting-IP': '192.0.2.1' } }),
        400,
        'validation_failed'
      )
    }
  })

  it('answers /auth requests beyond the limit with 429 and Retry-After, per client address', async () => {
    const limiter = fakeLimiter(3)
    const bound = { CLIENT_RATE_LIMIT: limiter }
    for (let i = 0; i < 3; i++) {
      expect((await send(bound, '/auth/login', '192.0.2.1')).status).toBe(400)
    }

    const limited = await send(bound, '/auth/login', '192.0.2.1')

    await expectError(limited, 429, 'too_many_requests')
    expect(limited.headers.get('Retry-After')).toBe('60')
    expect((await send(bound, '/auth/login', '192.0.2.2')).status).toBe(400)
    expect(limiter.keys).toEqual(['192.0.2.1', '192.0.2.1', '192.0.2.1', '192.0.2.1', '192.0.2.2'])
  })

  it('counts the addresses of one IPv6 /64 as one client', async () => {
    const limiter = fakeLimiter(1)
    const bound = { CLIENT_RATE_LIMIT: limiter }
    expect((await send(bound, '/auth/register', '2001:db8:1:2::1')).status).toBe(400)

    await expectError(
      await send(bound, '/auth/register', '2001:0db8:0001:0002:ffff:1:2:3'),
      429,
      'too_many_requests'
    )
    expect((await send(bound, '/auth/register', '2001:db8:1:3::1')).status).toBe(400)
  })

  it('leaves routes outside /auth alone', async () => {
    const limiter = fakeLimiter(0)

    expect((await send({ CLIENT_RATE_LIMIT: limiter }, '/notes', '192.0.2.1')).status).toBe(401)
    expect(limiter.keys).toEqual([])
  })

  it('lets requests through when the limiter itself fails', async () => {
    vi.spyOn(console, 'warn').mockImplementation(() => {})
    const broken = { limit: () => Promise.reject(new Error('limiter down')) }

    expect((await send({ CLIENT_RATE_LIMIT: broken }, '/auth/login', '192.0.2.1')).status).toBe(400)
  })

  it('derives keys from addresses as written in any IPv6 form', () => {
    expect(clientKey('203.0.113.9')).toBe('203.0.113.9')
    expect(clientKey('2001:DB8::1')).toBe('2001:db8:0:0::/64')
    expect(clientKey('2001:db8:0:0:1:2:3:4')).toBe('2001:db8:0:0::/64')
    expect(clientKey('::1')).toBe('0:0:0:0::/64')
  })
})
