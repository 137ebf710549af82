/**
 * One declaration per route, next to its handler: what the route accepts (endpoint(), which runs
 * authentication and body validation) and, in the same module's docs table, every answer it can
 * give. The OpenAPI document is generated from both at build time (src/openapi/), and it refuses a
 * route without docs or docs without a route, so they cannot drift apart. The docs tables are read
 * by nothing the Worker runs, so the bundler leaves them out of the deployed bundle.
 */
import type { MiddlewareHandler } from 'hono'
import { COMPOSED_HANDLER } from 'hono/utils/constants'
import type * as v from 'valibot'
import { nowSeconds } from '../clock'
import type { AppEnv } from '../env'
import { stepUpChallenge } from './bearer'
import { refuseUnknownAuthMode } from './cookies'
import { ApiError } from './errors'
import type { ErrorCode } from './errors'
import { jsonBody } from './json-body'
import type { OAuthErrorCode } from './oauth-errors'
import { requireAuth } from './require-auth'

/** How recent a sign-in a route that changes how one signs in accepts (RFC 9470 max_age). */
export const FRESH_SIGN_IN_SECONDS = 600

/**
 * A recent sign-in, and on an account with a second factor one that used it: else a stolen
 * password, re-authenticated with, could mint recovery codes or add a passkey of its own.
 */
const requireFreshSignIn: MiddlewareHandler<AppEnv> = async function requireFreshSignIn(c, next) {
  const { authTime, amr } = c.get('auth')
  if (
    nowSeconds() - authTime > FRESH_SIGN_IN_SECONDS ||
    !(await c.get('services').secondFactor.proves(c.get('user'), amr))
  ) {
    throw new ApiError('reauthentication_required', {
      headers: {
        'WWW-Authenticate': stepUpChallenge(FRESH_SIGN_IN_SECONDS),
      },
    })
  }
  await next()
}

/** Response headers the document knows how to describe (src/openapi/components.ts). */
export type HeaderName =
  | 'Allow'
  | 'Cache-Control'
  | 'Location'
  | 'Pragma'
  | 'Retry-After'
  | 'Set-Cookie'
  | 'WWW-Authenticate'
  | 'X-Request-Id'

/** A code at its usual status (errors.ts), or at the one this route gives it. */
export type DeclaredError = ErrorCode | readonly [ErrorCode, number]

export interface SuccessResponse {
  /** 302: a browser navigation's answer (a redirect, no body). */
  status: 200 | 201 | 202 | 204 | 302
  description: string
  /** The JSON body; absent for an empty response. */
  body?: v.GenericSchema
  headers?: readonly HeaderName[]
}

/** What a route runs before its handler. */
export interface EndpointSpec<B extends v.GenericSchema | undefined = undefined> {
  /** A live session's access token, as a bearer token or the access cookie. */
  auth?: boolean
  /**
   * The route changes how one signs in: the presented token's `auth_time` must be recent
   * (FRESH_SIGN_IN_SECONDS) and, where the account has a second factor, its `amr` must show one,
   * else 401 reauthentication_required. Needs `auth: true`.
   */
  fresh?: boolean
  /** The client may ask for cookie mode with `X-Auth-Mode: cookie`. */
  cookieMode?: boolean
  /** The JSON body, validated before the handler runs. */
  body?: B
  /** Whether a client may leave the body out (defaults to true when a body is declared). */
  bodyRequired?: boolean
  /** Stands in for the plain JSON validation where the route needs more (a cookie fallback). */
  validate?: MiddlewareHandler<AppEnv>
}

/** What the OpenAPI document says of a route beyond what endpoint() runs: its answers. */
export interface EndpointDocs {
  summary: string
  description?: string
  tag: string
  /** The client may present a device token (X-Device-Token, or the device cookie). */
  deviceToken?: boolean
  /** Optional query parameters the handler reads: name -> what it is. */
  query?: Readonly<Record<string, string>>
  /** A form body (the OAuth routes parse it themselves: RFC 6749 picks the error by the rule). */
  form?: v.GenericSchema
  success: SuccessResponse
  /** Other successful answers (a login's 202 when a second factor is needed). */
  alsoSuccess?: readonly SuccessResponse[]
  /** The errors the handler and what it calls can raise; the ones of auth and body are implied. */
  errors?: readonly DeclaredError[]
  /** RFC 6749 errors, `{error, error_description}`, for the OAuth routes. */
  oauthErrors?: readonly OAuthErrorCode[]
}

/**
 * A module's docs table: `'<METHOD> <path>'` -> the route's docs, the path as the app serves it
 * (its mount point included, e.g. 'GET /me').
 */
export type RouteDocs = Readonly<Record<`${Uppercase<string>} /${string}`, EndpointDocs>>

/** Docs of a part of the app (the core, a feature): its routes' tables, tags and named shapes. */
export interface PartDocs {
  routes: readonly RouteDocs[]
  tags?: readonly { name: string; description: string }[]
  /** Response shapes worth a name in the document, so that generated clients name their types. */
  schemas?: Readonly<Record<string, v.GenericSchema>>
}

/**
 * What a global middleware adds to the routes it covers (its path in `app.use`), limited to some
 * methods where it only acts on those.
 */
export interface MiddlewareSpec {
  methods?: readonly string[]
  errors?: readonly DeclaredError[]
  /** Headers it puts on every response. */
  headers?: readonly HeaderName[]
}

// Read by the OpenAPI generator only: an endpoint's declaration, and a global middleware's.
const ENDPOINT = Symbol('endpoint')
const MIDDLEWARE = Symbol('middleware')

interface Declared {
  [ENDPOINT]?: EndpointSpec<v.GenericSchema | undefined>
  [MIDDLEWARE]?: MiddlewareSpec
  /** A sub-app with its own onError has its handlers wrapped by `app.route()`: the original. */
  [COMPOSED_HANDLER]?: Declared
}

type BodyInput<B> = B extends v.GenericSchema
  ? { in: { json: v.InferInput<B> }; out: { json: v.InferOutput<B> } }
  : // Hono's "no input"
    {}

// Its own function, so that the endpoint's declaration is not written on a shared step.
const onlyStep =
  (step: MiddlewareHandler<AppEnv>): MiddlewareHandler<AppEnv> =>
  (c, next) =>
    step(c, next)

const compose = (steps: MiddlewareHandler<AppEnv>[]): MiddlewareHandler<AppEnv> =>
  // Most public routes declare no step, most protected ones only authentication: then no closure
  // per request, only the next handler or that one step.
  steps.length === 0
    ? (_c, next) => next()
    : steps.length === 1
      ? onlyStep(steps[0])
      : (c, next) => {
          const run = async (index: number): Promise<void> => {
            const step = steps[index]
            if (!step) return next()
            await step(c, () => run(index + 1))
          }
          return run(0)
        }

/** The route's first middleware: authentication, then the body, both as declared. */
export const endpoint = <B extends v.GenericSchema | undefined = undefined>(
  spec: EndpointSpec<B> = {}
): MiddlewareHandler<AppEnv, string, BodyInput<B>> => {
  const steps: MiddlewareHandler<AppEnv>[] = []
  if (spec.auth) steps.push(requireAuth())
  if (spec.cookieMode) steps.push(refuseUnknownAuthMode())
  if (spec.fresh) steps.push(requireFreshSignIn)
  if (spec.validate) steps.push(spec.validate)
  else if (spec.body) {
    steps.push(jsonBody(spec.body, { optional: spec.bodyRequired === false }))
  }
  const declared: MiddlewareHandler<AppEnv> & Declared = compose(steps)
  declared[ENDPOINT] = spec
  return declared
}

/** Attaches to a global middleware the answers it can give on the routes it covers. */
export const declareMiddleware = <M extends MiddlewareHandler<AppEnv>>(
  middleware: M,
  spec: MiddlewareSpec
): M => {
  ;(middleware as Declared)[MIDDLEWARE] = spec
  return middleware
}

const unwrapped = (handler: unknown): Declared => {
  let inner = handler as Declared
  while (inner[COMPOSED_HANDLER]) inner = inner[COMPOSED_HANDLER]
  return inner
}

export const endpointSpecOf = (
  handler: unknown
): EndpointSpec<v.GenericSchema | undefined> | undefined => unwrapped(handler)[ENDPOINT]

export const middlewareSpecOf = (handler: unknown): MiddlewareSpec | undefined =>
  unwrapped(handler)[MIDDLEWARE]
