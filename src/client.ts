/**
 * A typed client for this API, for other TypeScript code (a front end, another Worker, tests):
 * hono/client's `hc` bound to the app's routes, so paths, bodies and responses are checked.
 * Type-only import of the app: bundling this pulls in hono/client, never the server.
 */
import { hc } from 'hono/client'
import type { ClientRequestOptions } from 'hono/client'
import type { AppType } from './index'

export const createClient = (baseUrl: string, options?: ClientRequestOptions) =>
  hc<AppType>(baseUrl, options)

export type ApiClient = ReturnType<typeof createClient>
