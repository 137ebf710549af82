/** Requests to the worker (through SELF, or app.fetch with a chosen env) and the error shape. */
import { SELF, createExecutionContext, env, waitOnExecutionContext } from 'cloudflare:test'
import { expect } from 'vitest'
import { app } from '../../src/index'

export const BASE_URL = 'https://auth.example.test'

export interface RequestOptions {
  method?: string
  /** Sent as a JSON body with Content-Type: application/json. */
  json?: unknown
  /** Sent verbatim, with whatever headers the caller gives. */
  body?: BodyInit
  token?: string
  headers?: Record<string, string>
}

export const buildRequest = (path: string, options: RequestOptions = {}): Request => {
  const headers = new Headers(options.headers)
  if (options.token) headers.set('Authorization', `Bearer ${options.token}`)
  let body = options.body
  if (options.json !== undefined) {
    headers.set('Content-Type', 'application/json')
    body = JSON.stringify(options.json)
  }
  const method = options.method ?? (body === undefined ? 'GET' : 'POST')
  return new Request(`${BASE_URL}${path}`, { method, headers, body })
}

/** A request to the deployed-like worker, through SELF with the configured bindings. */
export const api = (path: string, options: RequestOptions = {}): Promise<Response> =>
  SELF.fetch(buildRequest(path, options))

/**
 * A request through app.fetch with a whole env of the test's choosing; it resolves once the
 * work after the response (waitUntil) is done too.
 */
export const callApp = async (
  appEnv: object,
  path: string,
  options: RequestOptions = {}
): Promise<Response> => callAppWith(appEnv, buildRequest(path, options))

/** The same for a request the test built itself. */
export const callAppWith = async (appEnv: object, request: Request): Promise<Response> => {
  const ctx = createExecutionContext()
  const res = await app.fetch(request, appEnv, ctx)
  await waitOnExecutionContext(ctx)
  return res
}

/** The same request with some bindings replaced (another grace window, a wrapped D1, a var). */
export const apiWithEnv = (
  overrides: Partial<typeof env> & Record<string, unknown>,
  path: string,
  options: RequestOptions = {}
): Promise<Response> => callApp({ ...env, ...overrides }, path, options)

/** Asserts the contract's error shape and returns the body. */
export const expectError = async (
  res: Response,
  status: number,
  code: string
): Promise<{ error: string; message: string; details?: Record<string, string> }> => {
  const text = await res.text()
  expect(res.status, text).toBe(status)
  expect(res.headers.get('Content-Type')).toMatch(/^application\/json/)
  expect(res.headers.get('X-Content-Type-Options')).toBe('nosniff')
  const body = JSON.parse(text)
  expect(body.error).toBe(code)
  expect(typeof body.message).toBe('string')
  expect(body.message.length).toBeGreaterThan(0)
  return body
}
