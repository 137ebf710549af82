/**
 * Answers 405 with an Allow header when the path exists but not with this method, before any
 * route's own middleware (such as require-auth) can turn the mistake into a misleading 401; and
 * 404 for a trailing slash, which the router (hono/tiny's PatternRouter) would otherwise take as
 * the path without it.
 */
import type { Context } from 'hono'
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

/**
 * The paths' methods: static paths in a map (one lookup, most requests), the few with
 * parameters as patterns tested in turn.
 */
interface MethodTable {
  exact: Map<string, Set<string>>
  patterns: PathMethods[]
}

const tableOf = (routes: RouterRoute[]): MethodTable => {
  const byPath = new Map<string, Set<string>>()
  for (const { method, path } of routes) {
    if (method === 'ALL') continue
    const methods = byPath.get(path) ?? new Set<string>()
    methods.add(method)
    if (method === 'GET') methods.add('HEAD')
    byPath.set(path, methods)
  }
  const table: MethodTable = { exact: new Map(), patterns: [] }
  for (const [path, methods] of byPath) {
    if (path.includes(':')) table.patterns.push({ pattern: patternFor(path), methods })
    else table.exact.set(path, methods)
  }
  return table
}

/** `routes` is read on first use, once the app is fully built. */
export const methodChecker = (routes: () => RouterRoute[]) => {
  let table: MethodTable | undefined
  return (c: Context<AppEnv>): void => {
    const path = c.req.path
    if (path.length > 1 && path.endsWith('/')) throw new ApiError('not_found')
    table ??= tableOf(routes())
    const exact = table.exact.get(path)
    const matching = table.patterns.filter(({ pattern }) => pattern.test(path))
    if (exact) matching.push({ pattern: /^/, methods: exact })
    const method = c.req.method
    if (
      matching.length > 0 &&
      method !== 'OPTIONS' &&
      !matching.some(({ methods }) => methods.has(method))
    ) {
      const allowed = [...new Set(matching.flatMap(({ methods }) => [...methods]))].sort()
      throw new ApiError('method_not_allowed', { headers: { Allow: allowed.join(', ') } })
    }
  }
}
