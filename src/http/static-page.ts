/**
 * A static page that the worker sees first (wrangler.toml run_worker_first): GET and HEAD get
 * the file from the static assets, with its _headers; any other method gets the API's JSON 405
 * with an Allow header, instead of the asset server's empty one.
 */
import type { MiddlewareHandler } from 'hono'
import type { AppEnv } from '../env'
import { ApiError } from './errors'

export const staticPage = (): MiddlewareHandler<AppEnv> =>
  async function staticPage(c) {
    if (c.req.method !== 'GET' && c.req.method !== 'HEAD') {
      throw new ApiError('method_not_allowed', { headers: { Allow: 'GET, HEAD' } })
    }
    const assets = c.get('services').options.assets
    if (!assets) throw new ApiError('not_found')
    const asset = await assets.fetch(c.req.raw)
    // A copy: the global middleware adds headers, and a fetched response's are immutable.
    return new Response(asset.body, asset)
  }
