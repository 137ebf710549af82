/** GET /openapi.json: an OpenAPI 3.1 document of every route the app serves, with the body constraints. */
import { Hono } from 'hono'
import { describe, expect, it } from 'vitest'
import { coreDocs } from '../src/create-auth'
import { DEFAULT_FEATURE_DOCS } from '../src/features'
import { endpoint } from '../src/http/endpoint'
import { app } from '../src/index'
import { openApiDocumentOf } from '../src/openapi/document'
import { resolve } from './helpers/openapi'
import { api } from './helpers/requests'

interface JsonSchema {
  type?: string
  properties?: Record<string, JsonSchema>
  required?: string[]
  minLength?: number
  maxLength?: number
  pattern?: string
}

interface OpenApiOperation {
  security?: unknown[]
  parameters?: { name: string; in: string; required: boolean }[]
  requestBody?: { required: boolean; content: Record<string, { schema: JsonSchema }> }
  responses: Record<string, { content?: Record<string, { schema: unknown }> } | { $ref: string }>
}

interface OpenApiDocument {
  openapi: string
  info: { title: string; version: string }
  paths: Record<string, Record<string, OpenApiOperation>>
  components: { schemas: Record<string, JsonSchema>; securitySchemes: Record<string, unknown> }
}

const HTTP_METHODS = new Set(['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'])

const fetchDocument = async (): Promise<OpenApiDocument> => {
  const res = await api('/openapi.json')
  expect(res.status).toBe(200)
  expect(res.headers.get('Content-Type')).toMatch(/^application\/json/)
  return res.json<OpenApiDocument>()
}

/** "METHOD /path" for every route registered on the app, in OpenAPI's path syntax. */
const servedRoutes = (): string[] => {
  const served = app.routes
    // Middleware registered with use() shows up as method ALL; it serves nothing by itself.
    .filter((route) => route.method !== 'ALL')
    .map((route) => `${route.method.toUpperCase()} ${route.path.replace(/:(\w+)/g, '{$1}')}`)
  return [...new Set(served)].sort()
}

const documentedRoutes = (document: OpenApiDocument): string[] =>
  Object.entries(document.paths)
    .flatMap(([path, item]) =>
      Object.keys(item)
        .filter((method) => HTTP_METHODS.has(method))
        .map((method) => `${method.toUpperCase()} ${path}`)
    )
    .sort()

const bodySchema = (document: OpenApiDocument, method: string, path: string): JsonSchema => {
  const schema = document.paths[path]?.[method]?.requestBody?.content['application/json']?.schema
  expect(schema, `${method} ${path} has a JSON request body schema`).toBeDefined()
  return schema!
}

describe('GET /openapi.json', () => {
  it('is a 200 OpenAPI 3.1.0 document with a title and version', async () => {
    const document = await fetchDocument()
    expect(document.openapi).toBe('3.1.0')
    expect(document.info.title).toMatch(/\S/)
    expect(document.info.version).toMatch(/\S/)
  })

  it('lists exactly the routes the app serves, no more and no fewer', async () => {
    const served = servedRoutes()
    // Guard against a vacuous comparison: the contract's routes are all there.
    expect(served).toEqual(
      expect.arrayContaining(['POST /auth/register', 'GET /notes/{id}', 'GET /openapi.json'])
    )
    expect(documentedRoutes(await fetchDocument())).toEqual(served)
  })

  it('declares the path parameter of every templated path', async () => {
    const document = await fetchDocument()
    for (const [path, item] of Object.entries(document.paths)) {
      const names = [...path.matchAll(/\{(\w+)\}/g)].map(([, name]) => name)
      for (const [method, operation] of Object.entries(item)) {
        const declared = (operation.parameters ?? []).filter((p) => p.in === 'path' && p.required)
        expect(
          declared.map((p) => p.name),
          `${method} ${path}`
        ).toEqual(names)
      }
    }
  })

  it('marks the protected routes with the bearer and cookie schemes and leaves the public ones open', async () => {
    const document = await fetchDocument()
    expect(document.components.securitySchemes).toHaveProperty('bearerAuth')
    expect(document.components.securitySchemes).toHaveProperty('cookieAuth')
    expect(document.paths['/me'].get.security).toEqual([{ bearerAuth: [] }, { cookieAuth: [] }])
    // Public operations say so explicitly, rather than inheriting a global requirement.
    expect(document.paths['/auth/login'].post.security).toEqual([])
    const isProtected = (method: string, path: string) =>
      (document.paths[path][method].security ?? []).length > 0
    expect(isProtected('get', '/me')).toBe(true)
    expect(isProtected('delete', '/notes/{id}')).toBe(true)
    expect(isProtected('post', '/auth/logout')).toBe(true)
    expect(isProtected('post', '/auth/register')).toBe(false)
    expect(isProtected('post', '/auth/login')).toBe(false)
    expect(isProtected('get', '/health')).toBe(false)
  })

  it('describes each error response with the enum of its codes and their real status', async () => {
    const document = await fetchDocument()
    const errorSchema = (method: string, path: string, status: string) =>
      resolve(document.paths[path][method].responses[status])?.content?.['application/json']
        .schema as {
        required: string[]
        properties: { error: { enum: string[] } }
      }
    const conflict = errorSchema('post', '/auth/register', '409')
    expect(conflict.required.sort()).toEqual(['error', 'message'])
    expect(conflict.properties.error.enum).toEqual(['email_taken'])
    expect(errorSchema('post', '/auth/login', '401').properties.error.enum).toEqual([
      'invalid_credentials',
    ])
    // A wrong password of a signed-in user is 403, not login's 401.
    expect(errorSchema('post', '/auth/password', '403').properties.error.enum.sort()).toEqual([
      'forbidden',
      'invalid_credentials',
    ])
    expect(errorSchema('get', '/me', '401').properties.error.enum.sort()).toEqual([
      'invalid_token',
      'missing_token',
      'token_expired',
      'token_revoked',
    ])
    expect(Object.keys(document.paths['/notes/{id}'].get.responses)).toEqual(
      expect.arrayContaining(['200', '401', '404'])
    )
  })

  it('is the document the routes generate: run `npm run openapi` after changing a route', async () => {
    expect(await fetchDocument()).toEqual(
      openApiDocumentOf(app, [coreDocs, ...DEFAULT_FEATURE_DOCS])
    )
  })

  it('refuses a route without docs, and docs without a route', () => {
    const docs = {
      summary: 'A probe',
      tag: 'meta',
      success: { status: 200, description: 'Up' },
    } as const
    const probe = new Hono().get('/probe', endpoint(), (c) => c.text('up'))
    expect(() => openApiDocumentOf(probe, [])).toThrow(
      'Routes without an endpoint() declaration and docs: GET /probe'
    )
    expect(() => openApiDocumentOf(probe, [{ routes: [{ 'GET /probe': docs }] }])).not.toThrow()
    expect(() =>
      openApiDocumentOf(probe, [{ routes: [{ 'GET /probe': docs, 'POST /probe': docs }] }])
    ).toThrow('Docs for routes the app does not serve: POST /probe')
    expect(() =>
      openApiDocumentOf(probe, [{ routes: [{ 'GET /probe': docs }, { 'GET /probe': docs }] }])
    ).toThrow('Documented twice: GET /probe')
    const undeclared = new Hono().get('/probe', (c) => c.text('up'))
    expect(() => openApiDocumentOf(undeclared, [{ routes: [{ 'GET /probe': docs }] }])).toThrow(
      'Routes without an endpoint() declaration and docs: GET /probe'
    )
  })

  it("gives register's body the contract's field constraints", async () => {
    const schema = bodySchema(await fetchDocument(), 'post', '/auth/register')
    expect(schema.required?.sort()).toEqual(['email', 'password'])
    expect(schema.properties?.email).toMatchObject({ type: 'string', maxLength: 254 })
    expect(schema.properties?.email.pattern).toBeDefined()
    expect(schema.properties?.password).toMatchObject({
      type: 'string',
      minLength: 8,
      maxLength: 256,
    })
    expect(schema.properties?.nickname).toMatchObject({
      type: 'string',
      minLength: 1,
      maxLength: 50,
    })
  })

  it('gives the other bodies their constraints too', async () => {
    const document = await fetchDocument()
    expect(bodySchema(document, 'post', '/auth/login').required?.sort()).toEqual([
      'email',
      'password',
    ])
    expect(bodySchema(document, 'post', '/auth/refresh').required).toEqual(['refresh_token'])
    // The body itself is optional where the server accepts none (logout; refresh in cookie mode).
    expect(document.paths['/auth/logout'].post.requestBody?.required).toBe(false)
    expect(document.paths['/auth/refresh'].post.requestBody?.required).toBe(false)
    expect(bodySchema(document, 'patch', '/me').properties?.nickname).toMatchObject({
      minLength: 1,
      maxLength: 50,
    })

    const note = bodySchema(document, 'post', '/notes')
    expect(note.required?.sort()).toEqual(['body', 'title'])
    expect(note.properties?.title).toMatchObject({ type: 'string', minLength: 1, maxLength: 200 })
    expect(note.properties?.body).toMatchObject({ type: 'string', maxLength: 10_000 })

    const patch = bodySchema(document, 'patch', '/notes/{id}')
    expect(patch.required ?? []).toEqual([])
    expect(patch.properties?.title).toMatchObject({ maxLength: 200 })
  })
})
