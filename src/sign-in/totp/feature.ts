/** TOTP with recovery codes, registered in one line (src/features.ts). */
import type { AuthFeature } from '../../feature'
import { mount } from '../../feature'
import type { PartDocs } from '../../http/endpoint'
import { totpRouteDocs, totpRoutes } from './routes'
import { createTotp } from './totp'

export const totpFeature = {
  id: 'totp',
  routes: [mount('/auth/mfa', totpRoutes)],
  optionsFromEnv: (vars) => ({
    secret: typeof vars.MFA_SECRET === 'string' ? vars.MFA_SECRET : undefined,
  }),
  setup: (core, options) => {
    // From this feature's own optionsFromEnv, or a host's featureOptions.totp ({ secret }).
    const totp = createTotp(core, options ?? {})
    return {
      secondFactor: totp.method,
      onUserDeleted: (userId) => ({ steps: totp.store.removalSteps(userId) }),
      // A reset by the address's owner removes a TOTP set up before the address was proven.
      onAccountReclaimed: (userId, verifiedAt) => ({
        steps: totp.store.removalSteps(
          userId,
          verifiedAt === null ? null : Math.floor(Date.parse(verifiedAt) / 1000)
        ),
      }),
      services: totp,
    }
  },
} satisfies AuthFeature

/** For the OpenAPI generator only (src/openapi/), so the deployed bundle leaves it out. */
export const totpDocs: PartDocs = {
  routes: [totpRouteDocs],
  tags: [{ name: 'mfa', description: 'A second factor: TOTP and recovery codes.' }],
}
