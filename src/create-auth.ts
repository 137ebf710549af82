/**
 * The composition root: options, ports and features in, the app and its gate out. Everything is
 * built once here; routes and middleware read what they need from `c.get('services')`, never from
 * the Worker env. The standalone Worker (src/index.ts) is the same assembly with the options
 * parsed from its env.
 */
import type { Context, MiddlewareHandler } from 'hono'
import { Hono } from 'hono/tiny'
import type { Core, DomainHooks } from './auth/core'
import { secondFactorGate } from './auth/second-factor'
import type { AppEnv } from './env'
import type { AuthFeature } from './feature'
import { clientRateLimit } from './http/client-rate-limit'
import { requestGate } from './http/csrf'
import { endpoint } from './http/endpoint'
import type { PartDocs, RouteDocs } from './http/endpoint'
import { ApiError, registerErrors, renderApiError } from './http/errors'
import { responseFrame } from './http/frame'
import { handleError, registerErrorMapper } from './http/handle-error'
import { requireAuthWith } from './http/require-auth'
import { cachingStaticRoutes } from './http/route-cache'
import { HealthResponse, OpenApiDocument } from './http/schemas'
import { staticPage } from './http/static-page'
import { DEFAULT_LIMITS } from './options'
import type { AuthOptions } from './options'
import type { AuthPorts } from './ports'
import { authDocs, authRoutes } from './routes/auth'
import { devDocs, devRoutes, refuseDisabledDevRoute } from './routes/dev'
import { eventDocs, eventRoutes } from './routes/events'
import { meDocs, meRoutes } from './routes/me'
import { oauthDocs, oauthRoutes } from './routes/oauth'
import { recoveryDocs, recoveryRoutes } from './routes/recovery'
import { sessionDocs, sessionRoutes } from './routes/sessions'
import { stepUpDocs, stepUpRoutes } from './routes/step-up'
import { wellKnownDocs, wellKnownRoutes } from './routes/well-known'
import { createServices } from './services'
import type { AuthServices } from './services'

/** How the app finds the services of a request: one createAuth's, or the Worker env's. */
export type ServicesOf = (c: Context<AppEnv>) => AuthServices

/** createAuth's options: the tunables, plus the features and their own settings. */
export interface CreateAuthOptions extends AuthOptions {
  /** Registered in order; a second-factor gate of an earlier feature is asked first. */
  features?: readonly AuthFeature[]
  /** Each feature's settings, by feature id (the Worker entry reads them from its env). */
  featureOptions?: Readonly<Record<string, unknown>>
}

/** The domain for one set of options and ports: the features set up, their hooks collected. */
export const buildServices = (options: CreateAuthOptions, ports: AuthPorts): AuthServices => {
  const features = options.features ?? []
  const hooks: { [K in keyof DomainHooks]: DomainHooks[K][number][] } = {
    secondFactorGates: [],
    secondFactors: [],
    userDeleted: [],
    accountReclaimed: [],
  }
  const core: Core = { options, ports, hooks }
  const featureServices: Record<string, unknown> = {}
  for (const feature of features) {
    const runtime = feature.setup?.(core, options.featureOptions?.[feature.id])
    if (runtime?.secondFactorGate) hooks.secondFactorGates.push(runtime.secondFactorGate)
    if (runtime?.secondFactor) hooks.secondFactors.push(runtime.secondFactor)
    if (runtime?.onUserDeleted) hooks.userDeleted.push(runtime.onUserDeleted)
    if (runtime?.onAccountReclaimed) hooks.accountReclaimed.push(runtime.onAccountReclaimed)
    featureServices[feature.id] = runtime?.services
  }
  // One gate for every second factor, so that the 202 lists all of the account's methods.
  if (hooks.secondFactors.length > 0) hooks.secondFactorGates.push(secondFactorGate(core))
  return createServices(core, featureServices)
}

/**
 * The app: global middleware, the core's routes and the features', and the one place errors are
 * rendered (a sub-app mounted with its own onError, /oauth, renders OAuth's shape and defers the
 * rest to handleError).
 */
export const assembleApp = (
  servicesOf: ServicesOf,
  features: readonly AuthFeature[] = [],
  maxBodyBytes: number = DEFAULT_LIMITS.maxBodyBytes
) => {
  for (const feature of features) {
    if (feature.errors) registerErrors(feature.errors)
    if (feature.mapError) registerErrorMapper(feature.mapError)
  }
  // Filled in once the app below is built; the 405 check reads it on the first request.
  let registeredRoutes: Hono<AppEnv>['routes'] = []

  const app = cachingStaticRoutes(new Hono<AppEnv>())
    .use(responseFrame(servicesOf))
    // Before the body is read: a limited client costs no more than a header check. Every route
    // under /auth, /oauth and /me is covered (those that hash a password, send mail or check a
    // token); /health, /notes and the public documents are not.
    .use('/auth/*', clientRateLimit())
    .use('/oauth/*', clientRateLimit())
    // '/me/*' matches '/me' itself as well.
    .use('/me/*', clientRateLimit())
    // The body's size, the dev outbox when off, the 405 check, the cookie mode and its CSRF check.
    .use(requestGate(() => registeredRoutes, maxBodyBytes, refuseDisabledDevRoute))
    // The API reference (public/docs.html): GET from the assets, a JSON 405 for other methods.
    .use('/docs', staticPage())
    .get('/health', endpoint(), (c) => c.json({ status: 'ok' as const }, 200))
    .get('/openapi.json', endpoint(), async (c) => {
      // A static asset (public/openapi.json), so the document costs the worker's bundle nothing.
      const assets = c.get('services').options.assets
      const asset = await assets?.fetch(new URL('/openapi.json', c.req.url))
      if (!asset?.ok) {
        throw new ApiError('server_misconfigured', {
          cause: new Error(`openapi.json asset answered ${asset?.status ?? 'nothing'}`),
        })
      }
      c.header('Cache-Control', 'public, max-age=300')
      c.header('Content-Type', 'application/json')
      return c.body(await asset.arrayBuffer(), 200)
    })
    .route('/auth/sessions', sessionRoutes)
    .route('/auth/events', eventRoutes)
    .route('/auth', authRoutes)
    .route('/auth', recoveryRoutes)
    .route('/auth', stepUpRoutes)
    .route('/me', meRoutes)
    .route('/.well-known', wellKnownRoutes)
    .route('/oauth', oauthRoutes)
    .route('/dev', devRoutes)
  for (const feature of features) {
    for (const mount of feature.routes ?? []) app.route(mount.path, mount.routes)
  }
  app.notFound((c) => renderApiError(c, new ApiError('not_found'))).onError(handleError)
  registeredRoutes = app.routes
  return app
}

export type AuthApp = ReturnType<typeof assembleApp>

export interface Auth {
  /** Every route of the service: mount it whole or under a prefix (`host.route('/id', app)`). */
  app: AuthApp
  /** The session gate for any Hono app's routes: bearer header or access cookie. */
  requireAuth: () => MiddlewareHandler<AppEnv>
  /** The domain, built once: what routes and features call. */
  services: AuthServices
}

/** Builds the service once from its options and ports. */
export const createAuth = (options: CreateAuthOptions, ports: AuthPorts): Auth => {
  const services = buildServices(options, ports)
  return {
    app: assembleApp(() => services, options.features, options.limits.maxBodyBytes),
    requireAuth: () => requireAuthWith(services),
    services,
  }
}

/** The routes' documentation, read only by the OpenAPI generator (src/openapi/). */
const metaDocs = {
  'GET /health': {
    summary: 'Liveness probe',
    tag: 'meta',
    success: { status: 200, description: 'The worker is up', body: HealthResponse },
  },
  'GET /openapi.json': {
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
  },
} satisfies RouteDocs

/** The core's docs (the features bring theirs): what `openApiDocumentOf` is given first. */
export const coreDocs: PartDocs = {
  routes: [
    metaDocs,
    sessionDocs,
    eventDocs,
    authDocs,
    recoveryDocs,
    stepUpDocs,
    meDocs,
    wellKnownDocs,
    oauthDocs,
    devDocs,
  ],
}
