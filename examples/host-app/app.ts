/**
 * A host app that uses the auth service as a library: its own Hono app and bindings, the auth
 * routes mounted under /identity, and a resource of its own behind `requireAuth`. Its onError
 * is its own, too: the auth routes and the gate still answer with the contract's JSON errors.
 */
import { Hono } from 'hono'
import { authOptions, cloudflarePorts, createAuth, lazySigner, requireAuth } from 'edge-jwt-auth'
import type { AppEnv } from 'edge-jwt-auth'

/** The host's bindings, under names of its choosing. */
export interface HostBindings {
  USERS_DB: D1Database
  SESSIONS_KV: KVNamespace
  AUTH_SECRET: string
}

export const createHostApp = (bindings: HostBindings) => {
  const auth = createAuth(
    authOptions({
      signer: lazySigner('HS256', undefined, { JWT_SECRET: bindings.AUTH_SECRET }),
      issuer: 'host-app',
      // Policy a deployer tunes, here a shorter access token than the default 900 s.
      accessTokenTtl: 600,
    }),
    cloudflarePorts({ db: bindings.USERS_DB, refreshTokens: bindings.SESSIONS_KV })
  )

  return (
    new Hono<AppEnv>()
      .route('/identity', auth.app)
      .get('/projects', requireAuth(auth), (c) =>
        c.json({ owner: c.var.auth.userId, email: c.var.user.email, projects: [] }, 200)
      )
      // The host's own error page: nothing of the auth service ends up here.
      .onError((_error, c) => c.json({ host_error: 'something broke' }, 500))
  )
}

// Built once per env object: the Worker's env is stable for an isolate's life.
const apps = new WeakMap<object, ReturnType<typeof createHostApp>>()

export default {
  fetch(request, env, ctx) {
    let app = apps.get(env)
    if (!app) {
      app = createHostApp(env)
      apps.set(env, app)
    }
    return app.fetch(request, env, ctx)
  },
} satisfies ExportedHandler<HostBindings>
