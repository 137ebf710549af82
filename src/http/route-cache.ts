/**
 * hono/tiny's PatternRouter tests every registered route's pattern in turn, on every request. A
 * static path (no parameter, no wildcard) always matches the same handlers, so its result is kept
 * after the first request: one map lookup instead of a hundred regular expressions. Only the
 * routes the app registers (method and path) are kept, so made-up paths cannot grow the map.
 */
import type { Router } from 'hono/router'
import type { Hono } from 'hono/tiny'

/** The app itself, its router swapped for the caching one before any route is added. */
export const cachingStaticRoutes = <App extends Pick<Hono, 'router'>>(app: App): App => {
  const inner = app.router as Router<unknown>
  const staticRoutes = new Set<string>()
  const results = new Map<string, ReturnType<Router<unknown>['match']>>()
  const router: Router<unknown> = {
    name: inner.name,
    add(method, path, handler) {
      if (!/[:*?]/.test(path)) staticRoutes.add(`${method} ${path}`)
      // A route added later may cover a path already answered: start again.
      results.clear()
      inner.add(method, path, handler)
    },
    match(method, path) {
      const key = `${method} ${path}`
      let result = results.get(key)
      if (!result) {
        result = inner.match(method, path)
        if (staticRoutes.has(key)) results.set(key, result)
      }
      return result
    },
  }
  app.router = router as App['router']
  return app
}
