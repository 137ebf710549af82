/**
 * A resource server on Workers that builds on the auth worker: `/whoami` is checked over RPC
 * (revocation seen at once, the user's profile included), `/whoami/offline` with the published
 * keys (no call per request; a revoked session's tokens pass until they expire), and
 * `POST /payouts` asks for a sign-in of the last 10 minutes (RFC 9470 step-up).
 */
import { Hono } from 'hono'
import { accessVerifier } from 'edge-jwt-auth/verify'
import type { AuthService } from 'edge-jwt-auth/verify'

export interface ResourceBindings {
  AUTH: Service<AuthService>
  AUTH_PUBLIC: Fetcher
  /** The auth worker's JWT_ISSUER (and, as its JWT_AUDIENCE is empty, the tokens' audience). */
  JWT_ISSUER: string
}

// Built once per isolate: the JWK set is cached with the verifier.
const overRpc = accessVerifier({ service: (c) => (c.env as ResourceBindings).AUTH })
let keysVerifier: ReturnType<typeof accessVerifier> | undefined
/** The JWKS verifier, built on the first request, once the issuer can be read from the env. */
const withKeys = (): ReturnType<NonNullable<typeof keysVerifier>> =>
  async function withKeys(c, next) {
    keysVerifier ??= accessVerifier({
      // Any host: a Service Binding's fetch goes to the bound worker whatever the URL says.
      jwks: {
        url: 'https://edge-jwt-auth/.well-known/jwks.json',
        fetcher: (context) => (context.env as ResourceBindings).AUTH_PUBLIC,
      },
      issuer: (c.env as ResourceBindings).JWT_ISSUER,
    })
    return keysVerifier()(c, next)
  }

export const app = new Hono<{ Bindings: ResourceBindings }>()
  .get('/whoami', overRpc(), (c) =>
    c.json({ user_id: c.var.auth.userId, email: c.var.user.email, amr: c.var.auth.amr }, 200)
  )
  .get('/whoami/offline', withKeys(), (c) =>
    c.json({ user_id: c.var.auth.userId, session_id: c.var.auth.sessionId }, 200)
  )
  .post('/payouts', overRpc({ maxAge: 600 }), (c) =>
    c.json({ status: 'scheduled', by: c.var.auth.userId }, 202)
  )
  .notFound((c) => c.json({ error: 'not_found', message: 'Nothing is here.' }, 404))

export default app satisfies ExportedHandler<ResourceBindings>
