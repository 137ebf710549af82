/**
 * The client every example uses: openapi-fetch, typed by examples/api.d.ts, which
 * `npm run client:types` generates from the worker's GET /openapi.json.
 */
import createClient from 'openapi-fetch'
import type { Client } from 'openapi-fetch'
import type { paths } from '../api'

export type ApiClient = Client<paths>

/** The JSON body of a successful call, as the document describes it. */
type JsonOf<Response> = Response extends { content: { 'application/json': infer Body } }
  ? Body
  : never

export type TokenResponse = JsonOf<paths['/auth/login']['post']['responses'][200]>
export type Note = JsonOf<paths['/notes/{id}']['get']['responses'][200]>['note']

/** What a failed call answered: the status and the contract's `{error, message}` body. */
export class ApiCallFailed extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string
  ) {
    super(`${status} ${code}: ${message}`)
    this.name = 'ApiCallFailed'
  }
}

/** Turns the error half of an openapi-fetch result into an exception, for flows that stop there. */
export const callFailed = (response: Response, error: { error: string; message: string }) =>
  new ApiCallFailed(response.status, error.error, error.message)

export interface ApiClientOptions {
  /** Another fetch: a service binding, a test's `SELF.fetch`, a fetch with retries. */
  fetch?: (request: Request) => Promise<Response>
}

export const createApiClient = (baseUrl: string, options: ApiClientOptions = {}): ApiClient =>
  createClient<paths>({ baseUrl, fetch: options.fetch })

/** The header a protected route needs, for one call. */
export const bearer = (accessToken: string) => ({ Authorization: `Bearer ${accessToken}` })
