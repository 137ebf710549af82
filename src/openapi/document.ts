/**
 * Builds the OpenAPI 3.1 document from the routes' own declarations (src/http/endpoint.ts: what
 * endpoint() runs, and the docs tables beside the handlers) and the global middleware's, walking
 * the app's router. Build-time only: `npm run openapi` writes public/openapi.json, which the
 * worker serves, so none of this, nor the docs tables, reaches the deploy bundle.
 */
import { toJsonSchema, toJsonSchemaDefs } from '@valibot/to-json-schema'
import type { ConversionConfig } from '@valibot/to-json-schema'
import type { Hono } from 'hono'
import type { RouterRoute } from 'hono/types'
import type { GenericSchema } from 'valibot'
import packageJson from '../../package.json'
import { ACCESS_COOKIE, AUTH_MODE_HEADER, COOKIE_MODE, DEVICE_COOKIE } from '../http/cookies'
import { endpointSpecOf, middlewareSpecOf } from '../http/endpoint'
import type {
  DeclaredError,
  EndpointDocs,
  EndpointSpec,
  HeaderName,
  MiddlewareSpec,
  PartDocs,
} from '../http/endpoint'
import { errorStatus } from '../http/errors'
import type { ErrorCode } from '../http/errors'
import { oauthErrorStatus } from '../http/oauth-errors'
import type { OAuthErrorCode } from '../http/oauth-errors'
import * as schemas from '../http/schemas'
import { DEVICE_TOKEN_HEADER } from '../http/token-response'
import { errorBody, HEADER_COMPONENTS, headerRef, oauthErrorBody, TAGS } from './components'

type Json = Record<string, unknown>

/** Response shapes that get a name, so that generated clients name their types (features add theirs). */
const NAMED_SCHEMAS: Record<string, GenericSchema> = {
  User: schemas.UserSchema,
  TokenResponse: schemas.TokenResponse,
  CookieTokenResponse: schemas.CookieTokenResponse,
  Session: schemas.SessionSchema,
  SecurityEvent: schemas.SecurityEventSchema,
}

// Marks left by the conversion on a string schema, turned into its pattern by spellRules.
const TRIMMED = 'x-trimmed'
const NO_CONTROL = 'x-no-control'

// One build at a time: openApiDocumentOf sets the definitions for the features it is given.
let CONVERSION: ConversionConfig = {
  target: 'draft-2020-12',
  errorMode: 'ignore',
  typeMode: 'input',
  definitions: NAMED_SCHEMAS,
  overrideRef: ({ referenceId }) => `#/components/schemas/${referenceId}`,
  // The rules JSON Schema has no keyword for, noted here and spelled as patterns afterwards.
  overrideAction: ({ valibotAction: action, jsonSchema }) => {
    if (action.type === 'trim') return { ...jsonSchema, [TRIMMED]: true }
    if (action.type === 'check' && 'requirement' in action) {
      if (action.requirement === schemas.hasNoControlCharacter) {
        return { ...jsonSchema, [NO_CONTROL]: true }
      }
    }
    return undefined
  },
}

const { CONTROL, SPACE } = schemas

/** What is left after trimming: it starts and ends with a character that is not whitespace. */
const TRIMMED_TEXT = `[^${CONTROL}${SPACE}](?:[^${CONTROL}]*[^${CONTROL}${SPACE}])?`

/** Every marked string schema gets the pattern its marks mean, and loses the marks. */
const spellRules = (node: unknown): unknown => {
  if (Array.isArray(node)) return node.map(spellRules)
  if (typeof node !== 'object' || node === null) return node
  const { [TRIMMED]: trimmed, [NO_CONTROL]: noControl, ...rest } = node as Json
  const spelled = Object.fromEntries(Object.entries(rest).map(([k, v]) => [k, spellRules(v)]))
  if (!trimmed && !noControl) return spelled
  // A declared pattern (the email's) already refuses control characters; it is anchored.
  const declared = typeof spelled.pattern === 'string' ? spelled.pattern.slice(1, -1) : null
  if (!trimmed) {
    spelled.pattern = `^${declared ?? `[^${CONTROL}]*`}$`
    return spelled
  }
  // Whitespace around the value is allowed: the server trims it away before its checks.
  const nonEmpty = typeof spelled.minLength === 'number' && spelled.minLength > 0
  const core = declared ?? (nonEmpty ? TRIMMED_TEXT : `(?:${TRIMMED_TEXT})?`)
  spelled.pattern = `^[${SPACE}]*(?:${core})[${SPACE}]*$`
  return spelled
}

const jsonSchema = (schema: GenericSchema): Json => {
  const { $schema: _schema, $defs: _defs, ...rest } = toJsonSchema(schema, CONVERSION) as Json
  return spellRules(rest) as Json
}

/** What every route's authentication can answer (http/require-auth.ts). */
const AUTH_ERRORS: ErrorCode[] = [
  'missing_token',
  'invalid_token',
  'token_expired',
  'token_revoked',
  'server_misconfigured',
  'service_unavailable',
]
/** What a JSON body can answer before the handler runs (http/json-body.ts). */
const BODY_ERRORS: ErrorCode[] = ['invalid_json', 'validation_failed', 'unsupported_media_type']

/** Headers that come with a code wherever it is raised: `true` when always present. */
const CODE_HEADERS: Partial<Record<ErrorCode | OAuthErrorCode, [HeaderName, boolean][]>> = {
  missing_token: [['WWW-Authenticate', true]],
  invalid_token: [['WWW-Authenticate', true]],
  token_expired: [['WWW-Authenticate', true]],
  token_revoked: [['WWW-Authenticate', true]],
  reauthentication_required: [['WWW-Authenticate', true]],
  too_many_requests: [['Retry-After', true]],
  service_unavailable: [['Retry-After', false]],
  method_not_allowed: [['Allow', true]],
  invalid_client: [['WWW-Authenticate', false]],
}

interface Covering {
  path: RegExp
  spec: MiddlewareSpec
}

const openApiPath = (path: string) => path.replace(/:(\w+)/g, '{$1}')

/** Hono's `use` paths: `*` matches the rest of the path, including nothing. */
const coveringPattern = (path: string) =>
  new RegExp(`^${path.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\/?\*/g, '(?:/.*)?')}$`)

const appliesTo = (spec: MiddlewareSpec, method: string) =>
  !spec.methods || spec.methods.includes(method.toUpperCase())

const statusOf = (error: DeclaredError): [ErrorCode, number] =>
  typeof error === 'string' ? [error, errorStatus(error)] : [error[0], error[1]]

interface StatusGroup {
  codes: ErrorCode[]
  oauthCodes: OAuthErrorCode[]
}

const groupErrors = (
  declared: DeclaredError[],
  oauth: readonly OAuthErrorCode[]
): Map<number, StatusGroup> => {
  const groups = new Map<number, StatusGroup>()
  const group = (status: number) => {
    const found = groups.get(status) ?? { codes: [], oauthCodes: [] }
    groups.set(status, found)
    return found
  }
  for (const error of declared) {
    const [code, status] = statusOf(error)
    const { codes } = group(status)
    if (!codes.includes(code)) codes.push(code)
  }
  for (const code of oauth) group(oauthErrorStatus(code)).oauthCodes.push(code)
  return groups
}

const describeHeaders = (names: Iterable<HeaderName>, required: Set<HeaderName>) =>
  Object.fromEntries(
    [...new Set(names)].sort().map((name) => [name, headerRef(name, required.has(name))])
  )

const errorResponse = (group: StatusGroup, common: HeaderName[]) => {
  const all = [...group.codes, ...group.oauthCodes]
  const names = new Set<HeaderName>(common)
  const required = new Set<HeaderName>()
  for (const [name] of all.flatMap((code) => CODE_HEADERS[code] ?? [])) names.add(name)
  for (const name of names) {
    if (all.every((code) => CODE_HEADERS[code]?.some(([n, always]) => n === name && always))) {
      required.add(name)
    }
  }
  const bodies = [
    ...(group.codes.length > 0 ? [errorBody(group.codes)] : []),
    ...(group.oauthCodes.length > 0 ? [oauthErrorBody(group.oauthCodes)] : []),
  ]
  return {
    description: all.map((code) => `\`${code}\``).join(', '),
    headers: describeHeaders(names, required),
    content: {
      'application/json': { schema: bodies.length === 1 ? bodies[0] : { oneOf: bodies } },
    },
  }
}

const operationId = (method: string, path: string) =>
  method +
  path
    .split(/[^A-Za-z]+/)
    .filter(Boolean)
    .map((word) => word[0].toUpperCase() + word.slice(1))
    .join('')

const describeOperation = (
  method: string,
  path: string,
  spec: EndpointSpec<GenericSchema | undefined> & EndpointDocs,
  covering: MiddlewareSpec[]
): Json => {
  const declared: DeclaredError[] = [
    ...(spec.auth ? AUTH_ERRORS : []),
    ...(spec.fresh ? (['reauthentication_required'] as const) : []),
    ...(spec.body ? BODY_ERRORS : []),
    // An X-Auth-Mode other than `cookie` (http/cookies.ts).
    ...(spec.cookieMode ? (['validation_failed'] as const) : []),
    ...(spec.errors ?? []),
    ...covering.flatMap((middleware) => middleware.errors ?? []),
  ]
  const common = covering.flatMap((middleware) => middleware.headers ?? [])
  if (spec.auth || spec.cookieMode) common.push('Set-Cookie')

  const parameters: Json[] = [...path.matchAll(/\{(\w+)\}/g)].map(([, name]) => ({
    name,
    in: 'path',
    required: true,
    schema: { type: 'string' },
  }))
  for (const [name, description] of Object.entries(spec.query ?? {})) {
    parameters.push({ name, in: 'query', required: false, description, schema: { type: 'string' } })
  }
  if (spec.cookieMode) parameters.push({ $ref: '#/components/parameters/AuthMode' })
  if (spec.deviceToken) parameters.push({ $ref: '#/components/parameters/DeviceToken' })

  const responses: Json = {}
  for (const success of [spec.success, ...(spec.alsoSuccess ?? [])]) {
    responses[success.status] = {
      description: success.description,
      headers: describeHeaders([...common, ...(success.headers ?? [])], new Set()),
      ...(success.body
        ? { content: { 'application/json': { schema: jsonSchema(success.body) } } }
        : {}),
    }
  }
  const groups = groupErrors(declared, spec.oauthErrors ?? [])
  for (const [status, group] of [...groups].sort(([a], [b]) => a - b)) {
    responses[status] = errorResponse(group, common)
  }

  const body = spec.body ?? spec.form
  const mediaType = spec.form ? 'application/x-www-form-urlencoded' : 'application/json'
  return {
    tags: [spec.tag],
    summary: spec.summary,
    ...(spec.description ? { description: spec.description } : {}),
    operationId: operationId(method, path),
    security: spec.auth ? [{ bearerAuth: [] }, { cookieAuth: [] }] : [],
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(body
      ? {
          requestBody: {
            required: spec.bodyRequired !== false,
            content: { [mediaType]: { schema: jsonSchema(body) } },
          },
        }
      : {}),
    responses,
  }
}

const REASONS: Record<string, string> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  409: 'Conflict',
  413: 'PayloadTooLarge',
  415: 'UnsupportedMediaType',
  429: 'TooManyRequests',
  500: 'ServerMisconfigured',
  503: 'ServiceUnavailable',
}

/**
 * An error response that several operations give alike (the 401 of every protected route, the
 * 503 of storage...) moves to `components.responses` once, and the operations refer to it.
 */
const shareRepeatedResponses = (paths: Record<string, Json>): Record<string, Json> => {
  const uses = new Map<string, { status: string; count: number }>()
  const each = (visit: (responses: Json, status: string, text: string) => void) => {
    for (const item of Object.values(paths)) {
      for (const operation of Object.values(item) as { responses: Json }[]) {
        for (const [status, response] of Object.entries(operation.responses)) {
          if (Number(status) >= 400) visit(operation.responses, status, JSON.stringify(response))
        }
      }
    }
  }
  each((_, status, text) => {
    const use = uses.get(text) ?? { status, count: 0 }
    use.count++
    uses.set(text, use)
  })
  const names = new Map<string, string>()
  const shared: Record<string, Json> = {}
  for (const [text, { status, count }] of uses) {
    if (count < 2) continue
    const base = REASONS[status] ?? `Status${status}`
    let name = base
    for (let n = 2; name in shared; n++) name = `${base}${n}`
    names.set(text, name)
    shared[name] = JSON.parse(text) as Json
  }
  each((responses, status, text) => {
    const name = names.get(text)
    if (name) responses[status] = { $ref: `#/components/responses/${name}` }
  })
  return shared
}

export interface DocumentOptions {
  version: string
  license: { name: string; identifier?: string; url?: string }
}

/** Every route's docs by `'<METHOD> <path>'`; a route documented twice is a mistake. */
const docsByRoute = (parts: readonly PartDocs[]): Map<string, EndpointDocs> => {
  const docs = new Map<string, EndpointDocs>()
  for (const table of parts.flatMap((part) => part.routes)) {
    for (const [route, entry] of Object.entries(table)) {
      if (docs.has(route)) throw new Error(`Documented twice: ${route}`)
      docs.set(route, entry)
    }
  }
  return docs
}

/**
 * The document for an app's routes, from the docs of its parts (the core's, each feature's):
 * every route must carry an endpoint() declaration and docs, and every docs entry a route.
 */
const buildOpenApiDocument = (
  routes: RouterRoute[],
  parts: readonly PartDocs[],
  options: DocumentOptions
): Json => {
  const named = { ...NAMED_SCHEMAS }
  for (const part of parts) Object.assign(named, part.schemas)
  CONVERSION = { ...CONVERSION, definitions: named }
  const docs = docsByRoute(parts)
  const middlewares: Covering[] = []
  const paths: Record<string, Json> = {}
  for (const { method, path, handler } of routes) {
    const middlewareSpec = middlewareSpecOf(handler)
    if (method === 'ALL' && middlewareSpec) {
      middlewares.push({ path: coveringPattern(path), spec: middlewareSpec })
    }
    const spec = endpointSpecOf(handler)
    const entry = docs.get(`${method} ${path}`)
    if (!spec || !entry) continue
    docs.delete(`${method} ${path}`)
    const covering = middlewares
      .filter((middleware) => middleware.path.test(path) && appliesTo(middleware.spec, method))
      .map((middleware) => middleware.spec)
    const route = openApiPath(path)
    const verb = method.toLowerCase()
    paths[route] = {
      ...paths[route],
      [verb]: describeOperation(verb, route, { ...spec, ...entry }, covering),
    }
  }
  const undeclared = routes.filter(
    ({ method, path }) =>
      method !== 'ALL' && paths[openApiPath(path)]?.[method.toLowerCase()] === undefined
  )
  if (undeclared.length > 0) {
    const list = undeclared.map(({ method, path }) => `${method} ${path}`).join(', ')
    throw new Error(`Routes without an endpoint() declaration and docs: ${list}`)
  }
  if (docs.size > 0) {
    throw new Error(`Docs for routes the app does not serve: ${[...docs.keys()].join(', ')}`)
  }

  const responses = shareRepeatedResponses(paths)
  // Only the headers some response refers to (405's Allow belongs to no operation).
  const referenced = JSON.stringify({ paths, responses })
  const headers = Object.fromEntries(
    Object.entries(HEADER_COMPONENTS).filter(([name]) =>
      referenced.includes(`"#/components/headers/${name}"`)
    )
  )

  return {
    openapi: '3.1.0',
    info: {
      title: 'Edge JWT auth',
      version: options.version,
      description: [
        'Register, sign in, rotate refresh tokens, end sessions, and keep notes.',
        '',
        'Every error is `{"error": "<code>", "message": "…"}`; each response lists its codes.',
        `A browser may use cookie mode: send \`${AUTH_MODE_HEADER}: ${COOKIE_MODE}\` to register,`,
        'log in or refresh, and the tokens come back as HttpOnly cookies instead of in the body.',
        'A known path asked with a method it does not serve answers `405 method_not_allowed`',
        'with an `Allow` header; an unknown path answers `404 not_found`.',
      ].join('\n'),
      license: options.license,
    },
    servers: [{ url: '/', description: 'The origin that serves this document' }],
    tags: [...TAGS, ...parts.flatMap((part) => part.tags ?? [])],
    paths,
    components: {
      securitySchemes: {
        bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
        cookieAuth: {
          type: 'apiKey',
          in: 'cookie',
          name: ACCESS_COOKIE,
          description: `Cookie mode: set by register, login and refresh with \`${AUTH_MODE_HEADER}: ${COOKIE_MODE}\`; used only when no Authorization header is sent.`,
        },
      },
      parameters: {
        AuthMode: {
          name: AUTH_MODE_HEADER,
          in: 'header',
          required: false,
          description:
            'Cookie mode: the tokens are set as HttpOnly cookies and left out of the body. Any other value is `400 validation_failed`.',
          schema: { type: 'string', enum: [COOKIE_MODE] },
        },
        DeviceToken: {
          name: DEVICE_TOKEN_HEADER,
          in: 'header',
          required: false,
          description: `The \`device_token\` of an earlier sign-in (in cookie mode, the \`${DEVICE_COOKIE}\` cookie): failed logins from this device count on its own budget.`,
          schema: { type: 'string' },
        },
      },
      headers,
      responses,
      schemas: toJsonSchemaDefs(named, CONVERSION),
    },
  }
}

/**
 * The project's document, for an app and the docs of its parts (`coreDocs` from
 * src/create-auth.ts, then each registered feature's). package.json names no license, so the
 * document says so in npm's own word for it rather than inventing one.
 */
export const openApiDocumentOf = (app: Pick<Hono, 'routes'>, parts: readonly PartDocs[]): Json =>
  buildOpenApiDocument(app.routes, parts, {
    version: packageJson.version,
    license: { name: 'UNLICENSED' },
  })
