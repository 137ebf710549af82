/**
 * Sign-in with an identity provider (OpenID Connect) as one feature: its routes, its error codes,
 * its settings from the Worker env, and its parts of a reset and of a deletion.
 */
import type { AuthFeature } from '../../feature'
import { mount } from '../../feature'
import type { PartDocs } from '../../http/endpoint'
import { d1OidcStore } from './adapters/d1'
import { oidcOptionsFromEnv } from './config'
import type { OidcOptions } from './config'
import { githubClient } from './github'
import { providerClient } from './provider'
import type { ProviderClient } from './provider-http'
import { LAST_SIGN_IN_METHOD, oidcRouteDocs, oidcRoutes } from './routes'
import type { OidcServices } from './routes'
import { IdentitySchema } from './schemas'

export const oidcFeature = {
  id: 'oidc',
  routes: [mount('/auth', oidcRoutes)],
  errors: {
    [LAST_SIGN_IN_METHOD]: [409, 'This is the last way to sign in to the account.'],
  },
  optionsFromEnv: oidcOptionsFromEnv,
  // A host passes OidcOptions in featureOptions.oidc; none configured: no providers.
  setup: (core, given) => {
    const options = (given as OidcOptions | undefined) ?? { providers: [] }
    const store = d1OidcStore(core.ports.d1, core.ports.d1Shards)
    // One client per provider, built once: an OpenID one keeps its discovery document and JWKS cached.
    const clients = new Map<string, ProviderClient>(
      'providers' in options
        ? options.providers.map((config) => [
            config.id,
            config.kind === 'github' ? githubClient(config) : providerClient(config),
          ])
        : []
    )
    const providers = () => {
      if ('error' in options) throw options.error
      return options.providers
    }
    const services: OidcServices = {
      context: { core, store },
      providers,
      client: (id) => {
        providers()
        return clients.get(id) ?? null
      },
    }
    return {
      services,
      // The address's owner takes the account back (a reset, or a registration replacing it).
      onAccountReclaimed: (userId) => ({ steps: store.reclaimSteps(userId) }),
      onUserDeleted: (userId) => ({ steps: store.deletionSteps(userId) }),
    }
  },
} satisfies AuthFeature

/** For the OpenAPI generator only (src/openapi/), so no bundle leaves it in. */
export const oidcDocs: PartDocs = {
  routes: [oidcRouteDocs],
  schemas: { Identity: IdentitySchema },
}
