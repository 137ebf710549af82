/**
 * Passkeys (WebAuthn) as one feature: its routes, a second factor for /auth/mfa/verify and
 * /auth/reauthenticate, and its part of a user's deletion. invalid_passkey is the core's code.
 */
import * as v from 'valibot'
import type { AuthFeature } from '../../feature'
import type { PartDocs } from '../../http/endpoint'
import { refuse } from './errors'
import { passkeyOptionsFromEnv } from './options'
import type { PasskeyOptions } from './options'
import { passkeyService } from './passkeys'
import { mfaPasskeyRoutes, passkeyRouteDocs, passkeyRoutes } from './routes'
import { CredentialSchema } from './schemas'

/** users.mfa as TOTP and this feature keep it: `totp: true` once confirmed, `passkeys`: a count. */
const besideTotp = (mfa: string | undefined): boolean => {
  try {
    const keys = JSON.parse(mfa ?? '{}') as { totp?: unknown; passkeys?: unknown }
    return keys.totp === true && typeof keys.passkeys === 'number' && keys.passkeys > 0
  } catch {
    return false
  }
}

export const passkeysFeature: AuthFeature = {
  id: 'passkeys',
  routes: [
    { path: '/auth/passkeys', routes: passkeyRoutes },
    { path: '/auth/mfa/passkey', routes: mfaPasskeyRoutes },
  ],
  optionsFromEnv: passkeyOptionsFromEnv,
  setup: (core, options) => {
    const services = passkeyService(core, options as PasskeyOptions | undefined)
    return {
      services,
      secondFactor: {
        methods: ['passkey'],
        // Offered beside another second factor, never alone: a passkey without UV is a first
        // factor here, and a lost one must not lock a password out (docs/passkeys.md).
        enrolled: (user) => (besideTotp(user.mfa) ? ['passkey'] : []),
        // After a password: a challenge bound to this mfa_token. Re-authenticating: one from
        // /auth/passkeys/login/options, with user verification (the possession of a key alone
        // makes no fresh sign-in). Either way the passkey must be this user's.
        verify: async ({ user, credential, purpose, challengeId }) => {
          if (!v.is(CredentialSchema, credential)) refuse()
          const signIn = purpose === 'sign_in'
          const [kind, subject] = signIn
            ? (['mfa', challengeId ?? ''] as const)
            : (['login', ''] as const)
          const expected = { userId: user.id, verified: !signIn }
          return (await services.checkAssertion(credential, kind, subject, expected)).amr
        },
      },
      onUserDeleted: (userId) => ({ steps: [services.store.deletionStep(userId)] }),
    }
  },
}

/** For the OpenAPI generator only (src/openapi/), so the deployed bundle leaves it out. */
export const passkeyDocs: PartDocs = { routes: [passkeyRouteDocs] }
