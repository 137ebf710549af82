/** /auth/mfa: setting up TOTP, its recovery codes, turning it off. Every route needs a fresh sign-in. */
import { Hono } from 'hono'
import * as v from 'valibot'
import type { AppEnv } from '../../env'
import { endpoint } from '../../http/endpoint'
import { MfaCodeBody } from '../../http/schemas'
import type { Totp } from './totp'

const RecoveryCodesResponse = v.object({ recovery_codes: v.array(v.string()) })
const TotpSetupResponse = v.object({ secret: v.string(), otpauth_uri: v.string() })

const totpOf = (c: { var: AppEnv['Variables'] }) => c.var.services.features.totp as Totp

export const totpRoutes = new Hono<AppEnv>()
  .post(
    '/totp',
    endpoint({
      summary: 'Start setting up TOTP: a new secret, pending until confirmed',
      tag: 'mfa',
      auth: true,
      fresh: true,
      success: { status: 200, description: 'The secret, shown this once', body: TotpSetupResponse },
      errors: ['mfa_already_enabled'],
    }),
    async (c) => c.json(await totpOf(c).begin(c.get('user')), 200)
  )
  .post(
    '/totp/confirm',
    endpoint({
      summary: 'Turn TOTP on with a first code; returns the recovery codes',
      tag: 'mfa',
      auth: true,
      fresh: true,
      body: MfaCodeBody,
      success: {
        status: 200,
        description: 'TOTP is on; the recovery codes are shown this once',
        body: RecoveryCodesResponse,
      },
      errors: ['invalid_mfa_code', 'mfa_already_enabled'],
    }),
    async (c) => {
      const codes = await totpOf(c).confirm(c.get('auth').userId, c.req.valid('json').code)
      return c.json({ recovery_codes: codes }, 200)
    }
  )
  .delete(
    '/totp',
    endpoint({
      summary: 'Turn TOTP off with a current code or a recovery code',
      tag: 'mfa',
      auth: true,
      fresh: true,
      body: MfaCodeBody,
      success: { status: 204, description: 'Off; the recovery codes are dead too' },
      errors: ['invalid_mfa_code', 'not_found', 'too_many_requests'],
    }),
    async (c) => {
      const user = await c.var.services.ports.users.findById(c.get('auth').userId)
      if (user) await totpOf(c).disable(user, c.req.valid('json').code)
      return c.body(null, 204)
    }
  )
  .post(
    '/recovery-codes',
    endpoint({
      summary: 'A new set of recovery codes; the old set dies',
      tag: 'mfa',
      auth: true,
      fresh: true,
      success: { status: 200, description: 'Shown this once', body: RecoveryCodesResponse },
      errors: ['not_found'],
    }),
    async (c) => {
      const codes = await totpOf(c).renewRecoveryCodes(c.get('auth').userId)
      return c.json({ recovery_codes: codes }, 200)
    }
  )
