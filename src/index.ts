/** Builds the Worker: global middleware, the routers, and the one place errors are rendered. */
import { Hono } from 'hono'
import { secureHeaders } from 'hono/secure-headers'
import { nowSeconds } from './clock'
import type { AppEnv, Bindings } from './env'
import { decideCookieMode } from './http/cookies'
import { declareMiddleware, endpoint } from './http/endpoint'
import { ApiError, renderApiError } from './http/errors'
import { handleError } from './http/handle-error'
import { HealthResponse, OpenApiDocument } from './http/schemas'
import { limitBody } from './middleware/body-limit'
import { clientRateLimit } from './middleware/client-rate-limit'
import { corsForListedOrigins } from './middleware/cors-allowlist'
import { cookieCsrf } from './middleware/csrf'
import { rejectUnknownMethods } from './middleware/method-not-allowed'
import { requestLog } from './middleware/request-log'
import { staticPage } from './middleware/static-page'
import { authRoutes } from './routes/auth'
import { devRoutes, devRoutesEnabled } from './routes/dev'
import { meRoutes } from './routes/me'
import { noteRoutes } from './routes/notes'
import { oauthRoutes } from './routes/oauth'
import { recoveryRoutes } from './routes/recovery'
import { sessionRoutes } from './routes/sessions'
import { wellKnownRoutes } from './routes/well-known'
import { pruneStaleRows } from './store/maintenance'

// Workers treat every named export of the entry module as a handler, so constants stay private.
const MAX_BODY_BYTES = 16 * 1024

// Filled in once the app below is built; the 405 check reads it on the first request.
let registeredRoutes: Hono<AppEnv>['routes'] = []

const app = new Hono<AppEnv>()
  .use(requestLog())
  .use(
    secureHeaders({
      crossOriginResourcePolicy: 'same-site',
      crossOriginOpenerPolicy: 'same-origin',
    })
  )
  .use(
    declareMiddleware(
      async function defaultNoStore(c, next) {
        await next()
        // Responses carry personal data or tokens; only explicitly public ones may be cached.
        // Set on the response itself: after next(), c.header() would copy the whole Response.
        if (!c.res.headers.has('Cache-Control')) c.res.headers.set('Cache-Control', 'no-store')
      },
      { headers: ['Cache-Control'] }
    )
  )
  .use(
    corsForListedOrigins({
      allowMethods: ['GET', 'POST', 'PATCH', 'DELETE'],
      allowHeaders: ['Authorization', 'Content-Type', 'X-Auth-Mode'],
      // Cookie mode from an origin in CORS_ORIGINS (a same-site front end) needs credentialed CORS.
      credentials: true,
      exposeHeaders: ['Retry-After', 'WWW-Authenticate', 'X-Request-Id'],
      maxAge: 600,
    })
  )
  // Before the body is read: a limited client costs no more than a header check. Every route that
  // checks a password or a token is covered; /health and the public documents are not.
  .use('/auth/*', clientRateLimit())
  .use('/oauth/*', clientRateLimit())
  // '/me/*' matches '/me' itself as well.
  .use('/me/*', clientRateLimit())
  .use(
    // Only requests that can carry a body: a GET or HEAD with one never reaches the worker.
    declareMiddleware(limitBody(MAX_BODY_BYTES), {
      methods: ['POST', 'PUT', 'PATCH', 'DELETE'],
      errors: ['payload_too_large'],
    })
  )
  .use('/dev/*', devRoutesEnabled())
  .use(rejectUnknownMethods(() => registeredRoutes))
  .use(decideCookieMode())
  .use(cookieCsrf())
  // The API reference (public/docs.html): GET from the assets, a JSON 405 for other methods.
  .use('/docs', staticPage())
  .get(
    '/health',
    endpoint({
      summary: 'Liveness probe',
      tag: 'meta',
      success: { status: 200, description: 'The worker is up', body: HealthResponse },
    }),
    (c) => c.json({ status: 'ok' as const }, 200)
  )
  .get(
    '/openapi.json',
    endpoint({
      summary: 'This document',
      description: 'Generated from the routes by `npm run openapi` (public/openapi.json).',
      tag: 'meta',
      success: {
        status: 200,
        description: 'The OpenAPI 3.1 document',
        body: OpenApiDocument,
        headers: ['Cache-Control'],
      },
      errors: ['server_misconfigured'],
    }),
    async (c) => {
      // A static asset (public/openapi.json), so the document costs the worker's bundle nothing.
      const asset = await c.env.ASSETS.fetch(new URL('/openapi.json', c.req.url))
      if (!asset.ok) {
        throw new ApiError('server_misconfigured', {
          cause: new Error(`openapi.json asset answered ${asset.status}`),
        })
      }
      c.header('Cache-Control', 'public, max-age=300')
      c.header('Content-Type', 'application/json')
      return c.body(await asset.arrayBuffer(), 200)
    }
  )
  .route('/auth/sessions', sessionRoutes)
  .route('/auth', authRoutes)
  .route('/auth', recoveryRoutes)
  .route('/me', meRoutes)
  .route('/notes', noteRoutes)
  .route('/.well-known', wellKnownRoutes)
  .route('/oauth', oauthRoutes)
  .route('/dev', devRoutes)
  .notFound((c) => renderApiError(c, new ApiError('not_found')))
  .onError(handleError)

registeredRoutes = app.routes

/** The daily cron trigger (wrangler.toml): expired sessions and old login counters go. */
const scheduled: ExportedHandlerScheduledHandler<Bindings> = async (_controller, env) => {
  const pruned = await pruneStaleRows(env.DB, nowSeconds())
  console.log(JSON.stringify({ level: 'info', msg: 'pruned stale rows', ...pruned }))
}

export type AppType = typeof app
export { app }
export default { fetch: app.fetch, scheduled } satisfies ExportedHandler<Bindings>
