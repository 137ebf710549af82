/**
 * A Worker of the composition root over the env: the app with its services built from the
 * bindings (src/worker-services.ts) and the daily cron trigger. src/index.ts is the one for the
 * registered features (src/features.ts); a fork or a test adds optional ones the same way.
 */
import { nowSeconds } from './clock'
import { assembleApp } from './create-auth'
import type { Bindings } from './env-options'
import type { AuthFeature } from './feature'
import { servicesFromEnv } from './worker-services'

export const createWorker = (features: readonly AuthFeature[]) => {
  const app = assembleApp((c) => servicesFromEnv(c.env as Bindings, features), features)

  /** The daily cron trigger (wrangler.toml): expired sessions and old login counters go. */
  const scheduled: ExportedHandlerScheduledHandler<Bindings> = async (_controller, env) => {
    const pruned = await servicesFromEnv(env, features).ports.maintenance.pruneStaleRows(
      nowSeconds()
    )
    console.log(JSON.stringify({ level: 'info', msg: 'pruned stale rows', ...pruned }))
  }

  return { app, handler: { fetch: app.fetch, scheduled } satisfies ExportedHandler<Bindings> }
}
