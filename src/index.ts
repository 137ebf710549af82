/**
 * The Worker entry: serves the app of the composition root (src/create-auth.ts) with the services
 * built from the env (src/worker-services.ts), runs the cron trigger, and exports the RPC
 * entrypoint other Workers bind to (src/rpc/).
 */
import { nowSeconds } from './clock'
import { assembleApp } from './create-auth'
import type { Bindings } from './env-options'
import type { WithFeatureRoutes } from './feature'
import { DEFAULT_FEATURES } from './features'
import { servicesFromEnv } from './worker-services'

const app = assembleApp((c) => servicesFromEnv(c.env as Bindings), DEFAULT_FEATURES)

/** The daily cron trigger (wrangler.toml): expired sessions and old login counters go. */
const scheduled: ExportedHandlerScheduledHandler<Bindings> = async (_controller, env) => {
  const pruned = await servicesFromEnv(env).ports.maintenance.pruneStaleRows(nowSeconds())
  console.log(JSON.stringify({ level: 'info', msg: 'pruned stale rows', ...pruned }))
}

export type AppType = WithFeatureRoutes<typeof app, typeof DEFAULT_FEATURES>
export { app }
// Other Workers' Service Binding to this one (docs/other-workers.md).
export { AuthService } from './rpc/auth-service'
export default { fetch: app.fetch, scheduled } satisfies ExportedHandler<Bindings>
