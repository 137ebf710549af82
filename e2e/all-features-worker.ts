/**
 * The Worker the browser tests serve: the registered features (src/features.ts) and the optional
 * ones that the deployed bundle leaves out for its size (docs/extending.md), so that each is tried
 * in Chromium against `wrangler dev` as a fork that registers it would run it.
 */
import { DEFAULT_FEATURES } from '../src/features'
import { oidcFeature } from '../src/sign-in/oidc'
import { createWorker } from '../src/worker'

const { handler } = createWorker([...DEFAULT_FEATURES, oidcFeature])

export { AuthService } from '../src/rpc/auth-service'
export default handler
