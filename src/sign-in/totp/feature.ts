/** TOTP with recovery codes, registered in one line (src/features.ts). */
import type { AuthFeature } from '../../feature'
import { totpRoutes } from './routes'
import { createTotp } from './totp'

export const totpFeature: AuthFeature = {
  id: 'totp',
  routes: [{ path: '/auth/mfa', routes: totpRoutes }],
  optionsFromEnv: (vars) => ({
    secret: typeof vars.MFA_SECRET === 'string' ? vars.MFA_SECRET : undefined,
  }),
  setup: (core, options) => {
    // From this feature's own optionsFromEnv, or a host's featureOptions.totp ({ secret }).
    const totp = createTotp(core, options ?? {})
    return {
      secondFactor: totp.method,
      onUserDeleted: (userId) => ({ steps: totp.store.removalSteps(userId) }),
      services: totp,
    }
  },
}
