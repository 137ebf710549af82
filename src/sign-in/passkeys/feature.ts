/** Passkeys (WebAuthn) as one feature: its routes, its error code, its part of a deletion. */
import type { AuthFeature } from '../../feature'
import { ApiError } from '../../http/errors'
import { InvalidPasskey } from './errors'
import { passkeyOptionsFromEnv } from './options'
import type { PasskeyOptions } from './options'
import { passkeyService } from './passkeys'
import { passkeyRoutes } from './routes'

declare module '../../http/errors' {
  interface FeatureErrorCodes {
    invalid_passkey: 401
  }
}

export const passkeysFeature: AuthFeature = {
  id: 'passkeys',
  routes: [{ path: '/auth/passkeys', routes: passkeyRoutes }],
  errors: { invalid_passkey: [401, 'The passkey could not be verified.'] },
  mapError: (error) => (error instanceof InvalidPasskey ? new ApiError('invalid_passkey') : null),
  optionsFromEnv: passkeyOptionsFromEnv,
  setup: (core, options) => {
    const services = passkeyService(core, options as PasskeyOptions | undefined)
    return {
      services,
      onUserDeleted: (userId) => ({ steps: [services.store.deletionStep(userId)] }),
    }
  },
}
