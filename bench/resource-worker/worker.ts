/**
 * The bench's resource server: `/rpc` verifies over the Service Binding's RPC, `/http` asks the
 * auth worker's GET /me through the binding's fetch (what an HTTP client of the API pays), `/jwks`
 * verifies with a JWK set (BENCH_JWKS, an EdDSA key the bench signs its token with). `/` answers
 * the bench's readiness probe.
 */
import { Hono } from 'hono'
import { accessVerifier } from 'edge-jwt-auth/verify'
import type { AuthService } from 'edge-jwt-auth/verify'

interface Bindings {
  AUTH: Service<AuthService>
  AUTH_PUBLIC: Fetcher
  BENCH_JWKS: string
}

const overRpc = accessVerifier({ service: (c) => (c.env as Bindings).AUTH })
const withKeys = accessVerifier({
  jwks: {
    url: 'https://edge-jwt-auth/.well-known/jwks.json',
    fetcher: (c) => ({ fetch: async () => new Response((c.env as Bindings).BENCH_JWKS) }),
  },
  issuer: 'edge-jwt-auth',
})

export default new Hono<{ Bindings: Bindings }>()
  .get('/', (c) => c.text('ok'))
  .get('/rpc', overRpc(), (c) => c.json({ sub: c.var.auth.userId }, 200))
  .get('/jwks', withKeys(), (c) => c.json({ sub: c.var.auth.userId }, 200))
  .get('/http', async (c) => {
    const res = await c.env.AUTH_PUBLIC.fetch('https://edge-jwt-auth/me', {
      headers: { Authorization: c.req.header('Authorization') ?? '' },
    })
    if (!res.ok) return c.body(res.body, res.status as 401)
    const { user } = await res.json<{ user: { id: string } }>()
    return c.json({ sub: user.id }, 200)
  })
