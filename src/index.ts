/**
 * The Worker entry: the app of the composition root (src/create-auth.ts) with the registered
 * features (src/features.ts), the cron trigger, and the RPC entrypoint other Workers bind to
 * (src/rpc/).
 */
import type { WithFeatureRoutes } from './feature'
import { DEFAULT_FEATURES } from './features'
import { createWorker } from './worker'

const { app, handler } = createWorker(DEFAULT_FEATURES)

export type AppType = WithFeatureRoutes<typeof app, typeof DEFAULT_FEATURES>
export { app }
// Other Workers' Service Binding to this one (docs/other-workers.md).
export { AuthService } from './rpc/auth-service'
export default handler
