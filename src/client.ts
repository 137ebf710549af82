/**
 * A typed client for this API, for other TypeScript code (a front end, another Worker, tests):
 * hono/client's `hc` bound to the app's routes, so paths, bodies and responses are checked.
 * Type-only import of the app: bundling this pulls in hono/client, never the server.
 *
 * A front end outside this repository imports the compiled declarations instead of this file
 * (package.json "exports" → "./client", built by `npm run client:dts`), so it never compiles the
 * worker's sources against its own DOM types.
 */
import { hc } from 'hono/client'
import type { ClientRequestOptions, ClientResponse } from 'hono/client'
import type { ErrorBody, ErrorStatus } from './http/errors'
import type { OAuthErrorBody, OAuthErrorStatus } from './http/oauth-errors'
import type { AppType } from './index'

/** Any failure of the JSON API: one of the contract's codes, at its status. */
export type ApiErrorResponse = ClientResponse<ErrorBody, ErrorStatus, 'json'>
/** A failure of /oauth/*: the RFC 6749 shape, or a JSON API error such as 413 before parsing. */
export type OAuthErrorResponse = ClientResponse<OAuthErrorBody, OAuthErrorStatus, 'json'>

/**
 * hc learns a route's responses from what its handler returns; errors are thrown and rendered
 * by the app's onError, so hc alone types a failed login as a 200. This adds the error
 * responses to every call, so that `if (res.status === 401)` compiles and narrows `res.json()`.
 */
type WithErrors<T, Failure> = T extends (...args: infer A) => Promise<infer R>
  ? (...args: A) => Promise<R | Failure>
  : T extends (...args: never[]) => unknown
    ? T
    : T extends object
      ? { [K in keyof T]: WithErrors<T[K], Failure> }
      : T

// A function rather than `typeof hc<AppType>`, so that emitted declarations spell the routes out
// instead of pointing back at the app's module.
const honoClient = (baseUrl: string, options?: ClientRequestOptions) =>
  hc<AppType>(baseUrl, options)
type HonoClient = ReturnType<typeof honoClient>

export type ApiClient = {
  [K in keyof HonoClient]: K extends 'oauth'
    ? WithErrors<HonoClient[K], OAuthErrorResponse | ApiErrorResponse>
    : WithErrors<HonoClient[K], ApiErrorResponse>
}

// No cast: ApiClient only widens hc's response types, and hc hands back every response as it is.
export const createClient = (baseUrl: string, options?: ClientRequestOptions): ApiClient =>
  honoClient(baseUrl, options)
