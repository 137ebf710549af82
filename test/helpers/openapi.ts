/**
 * Checks real responses against the generated OpenAPI document (public/openapi.json): the status
 * must be declared, required headers present, and the body valid against the declared schema.
 */
import { Validator } from '@cfworker/json-schema'
import type { Schema } from '@cfworker/json-schema'
import { expect } from 'vitest'
import document from '../../public/openapi.json'

interface Header {
  required?: boolean
  schema?: Schema
  $ref?: string
}

interface DocResponse {
  headers?: Record<string, Header>
  content?: Record<string, { schema: Schema }>
}

export interface DocOperation {
  security: unknown[]
  parameters?: ({ $ref: string } | { name: string; in: string })[]
  requestBody?: { required: boolean; content: Record<string, { schema: Schema }> }
  responses: Record<string, DocResponse | { $ref: string }>
}

export const openApiDocument = document as unknown as {
  paths: Record<string, Record<string, DocOperation>>
  components: Record<string, Record<string, unknown>>
}

export const operations = (): { method: string; path: string; operation: DocOperation }[] =>
  Object.entries(openApiDocument.paths).flatMap(([path, item]) =>
    Object.entries(item).map(([method, operation]) => ({ method, path, operation }))
  )

export const operationKey = (method: string, path: string): string =>
  `${method.toUpperCase()} ${path}`

/** Every (operation, status) a test has observed, to prove that each declared one was tried. */
export const observed = new Set<string>()

/** A response may be shared: `{ $ref: '#/components/responses/Name' }`. */
export const resolve = <T>(value: T | { $ref: string } | undefined): T | undefined => {
  if (value === undefined || !('$ref' in (value as object))) return value as T | undefined
  const name = (value as { $ref: string }).$ref.replace('#/components/responses/', '')
  return openApiDocument.components.responses[name] as T
}

const validatorFor = (schema: Schema) =>
  // Local references (#/components/...) resolve against this root, which carries the components.
  new Validator({ ...schema, components: openApiDocument.components } as Schema, '2020-12', false)

/** Asserts that the response is one the document declares for this operation; returns its body. */
export const expectConforms = async (
  method: string,
  path: string,
  res: Response
): Promise<unknown> => {
  const operation = openApiDocument.paths[path]?.[method.toLowerCase()]
  expect(operation, `${operationKey(method, path)} is documented`).toBeDefined()
  const text = await res.text()
  const declared = resolve(operation.responses[String(res.status)])
  if (!declared) {
    expect.fail(`${operationKey(method, path)} answered an undeclared ${res.status}: ${text}`)
  }
  observed.add(`${operationKey(method, path)} ${res.status}`)

  for (const [name, header] of Object.entries(declared.headers ?? {})) {
    const value = res.headers.get(name)
    if (header.required) expect(value, `${name} on ${res.status}`).not.toBeNull()
    if (value !== null && header.schema) {
      const result = validatorFor(header.schema).validate(value)
      expect(result.errors, `${name}: ${value}`).toEqual([])
    }
  }

  const content = declared.content?.['application/json']
  if (!content) {
    expect(text, `${operationKey(method, path)} ${res.status} has no body`).toBe('')
    return undefined
  }
  expect(res.headers.get('Content-Type')).toMatch(/^application\/json/)
  const body: unknown = JSON.parse(text)
  const result = validatorFor(content.schema).validate(body)
  expect(
    result.errors.map((error) => `${error.instanceLocation}: ${error.error}`),
    `${operationKey(method, path)} ${res.status} body ${text}`
  ).toEqual([])
  return body
}
