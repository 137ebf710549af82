/**
 * Answers 405 with an Allow header when the path exists but not with this method, before any
 * route's own middleware (such as require-auth) can turn the mistake into a misleading 401; and
 * 404 for a trailing slash, which the router (hono/tiny's PatternRouter) would otherwise take as
 * the path without it.
 */
import type { MiddlewareHandler } from 'hono'
import type { RouterRoute } from 'hono/types'
import type { AppEnv } from '../env'
import { ApiError } from './errors'

interface PathMethods {
  pattern: RegExp
  methods: Set<string>
}

const patternFor = (path: string): RegExp =>
  new RegExp(
    `^${path
      .split('/')
      .map((segment) =>
        segment.startsWith(':') ? '[^/]+' : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
      )
      .join('/')}$`
  )

const groupByPath = (routes: RouterRoute[]): PathMethods[] => {
  const byPath = new Map<string, Set<string>>()
  for (const { method, path } of routes) {
    if (method === 'ALL') continue
    const methods = byPath.get(path) ?? new Set<string>()
    methods.add(method)
    if (method === 'GET') methods.add('HEAD')
    byPath.set(path, methods)
  }
  return [...byPath].map(([path, methods]) => ({ pattern: patternFor(path), methods }))
}

/** `routes` is read on first use, once the app is fully built. */
export const rejectUnknownMethods = (routes: () => RouterRoute[]): MiddlewareHandler<AppEnv> => {
  let known: PathMethods[] | undefined
  return async function rejectUnknownMethods(c, next) {
    const path = c.req.path
    if (path.length > 1 && path.endsWith('/')) throw new ApiError('not_found')
    known ??= groupByPath(routes())
    const matching = known.filter(({ pattern }) => pattern.test(path))
    if (
      matching.length > 0 &&
      c.req.method !== 'OPTIONS' &&
      !matching.some(({ methods }) => methods.has(c.req.method))
    ) {
      const allowed = [...new Set(matching.flatMap(({ methods }) => [...methods]))].sort()
      throw new ApiError('method_not_allowed', { headers: { Allow: allowed.join(', ') } })
    }
    await next()
  }
}
