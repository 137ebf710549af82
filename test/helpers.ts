/** Shared helpers: requests through SELF, account set-up, and hand-built tokens for attack cases. */
import { SELF, createExecutionContext, env, waitOnExecutionContext } from 'cloudflare:test'
import { expect } from 'vitest'
import { app } from '../src/index'

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

/** The same request through app.fetch with a whole env of the test's choosing. */
export const callApp = async (
  appEnv: object,
  path: string,
  options: RequestOptions = {}
): Promise<Response> => {
  const ctx = createExecutionContext()
  const res = await app.fetch(buildRequest(path, options), appEnv, ctx)
  await waitOnExecutionContext(ctx)
  return res
}

/** The same request with some bindings replaced (another grace window, a wrapped D1, a var). */
export const apiWithEnv = (
  overrides: Partial<typeof env> & Record<string, unknown>,
  path: string,
  options: RequestOptions = {}
): Promise<Response> => callApp({ ...env, ...overrides }, path, options)

let emailCounter = 0
export const uniqueEmail = (): string =>
  `user${Date.now().toString(36)}${(emailCounter++).toString(36)}${Math.random().toString(36).slice(2, 6)}@example.com`

export interface TokenResponseBody {
  user: {
    id: string
    email: string
    nickname: string | null
    created_at: string
    email_verified: boolean
  }
  access_token: string
  token_type: 'Bearer'
  expires_in: number
  refresh_token: string
  refresh_expires_in: number
}

export interface Account {
  email: string
  password: string
  tokens: TokenResponseBody
  accessToken: string
  refreshToken: string
  userId: string
}

const toAccount = (email: string, password: string, tokens: TokenResponseBody): Account => ({
  email,
  password,
  tokens,
  accessToken: tokens.access_token,
  refreshToken: tokens.refresh_token,
  userId: tokens.user.id,
})

export const registerUser = async (
  overrides: { email?: string; password?: string; nickname?: string } = {}
): Promise<Account> => {
  const email = overrides.email ?? uniqueEmail()
  const password = overrides.password ?? 'correct horse battery staple'
  const res = await api('/auth/register', {
    json: { email, password, nickname: overrides.nickname },
  })
  expect(res.status, await res.clone().text()).toBe(201)
  return toAccount(email, password, await res.json())
}

export const loginUser = async (
  email: string,
  password: string,
  headers?: Record<string, string>
): Promise<Account> => {
  const res = await api('/auth/login', { json: { email, password }, headers })
  expect(res.status, await res.clone().text()).toBe(200)
  return toAccount(email, password, await res.json())
}

export const refresh = (refreshToken: string): Promise<Response> =>
  api('/auth/refresh', { json: { refresh_token: refreshToken } })

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

// Hand-built JWTs, so that attacks are tested on bytes we made, not on a library's word.

const encoder = new TextEncoder()

export const base64UrlEncode = (input: string | Uint8Array): string => {
  const bytes = typeof input === 'string' ? encoder.encode(input) : input
  let binary = ''
  for (const byte of bytes) binary += String.fromCharCode(byte)
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

export const base64UrlDecode = (text: string): string => {
  const padded = text.replace(/-/g, '+').replace(/_/g, '/')
  return new TextDecoder().decode(Uint8Array.from(atob(padded), (char) => char.charCodeAt(0)))
}

export const decodeJwt = (
  token: string
): { header: Record<string, unknown>; payload: Record<string, unknown> } => {
  const [header, payload] = token.split('.')
  return {
    header: JSON.parse(base64UrlDecode(header)),
    payload: JSON.parse(base64UrlDecode(payload)),
  }
}

const HMAC_HASH: Record<string, string> = { HS256: 'SHA-256', HS384: 'SHA-384', HS512: 'SHA-512' }

/** Signs any header and payload with HMAC; `alg: none` tokens get an empty signature. */
export const forgeToken = async (
  header: Record<string, unknown>,
  payload: Record<string, unknown>,
  secret: string = env.JWT_SECRET
): Promise<string> => {
  const signingInput = `${base64UrlEncode(JSON.stringify(header))}.${base64UrlEncode(JSON.stringify(payload))}`
  const hash = HMAC_HASH[String(header.alg)]
  if (!hash) return `${signingInput}.`
  const key = await crypto.subtle.importKey(
    'raw',
    encoder.encode(secret),
    { name: 'HMAC', hash },
    false,
    ['sign']
  )
  const signature = new Uint8Array(
    await crypto.subtle.sign('HMAC', key, encoder.encode(signingInput))
  )
  return `${signingInput}.${base64UrlEncode(signature)}`
}

/** Claims like the worker's own, for a given account; override any of them. */
export const accessClaims = (
  account: Account,
  overrides: Record<string, unknown> = {}
): Record<string, unknown> => ({
  ...decodeJwt(account.accessToken).payload,
  ...overrides,
})
