/** /auth/mfa: setting up TOTP, its recovery codes, turning it off. Every route needs a fresh sign-in. */
import { Hono } from 'hono/tiny'
import * as v from 'valibot'
import type { AppEnv } from '../../env'
import { endpoint } from '../../http/endpoint'
import type { RouteDocs } from '../../http/endpoint'
import { MfaCodeBody } from '../../http/schemas'
import { recordEvent, recordMfaFailure } from '../../http/security-events'
import type { Totp } from './totp'

const RecoveryCodesResponse = v.object({ recovery_codes: v.array(v.string()) })
const TotpSetupResponse = v.object({ secret: v.string(), otpauth_uri: v.string() })

const totpOf = (c: { var: AppEnv['Variables'] }) => c.var.services.features.totp as Totp

export const totpRoutes = new Hono<AppEnv>()
  .post('/totp', endpoint({ auth: true, fresh: true }), async (c) =>
    c.json(await totpOf(c).begin(c.get('user')), 200)
  )
  .post('/totp/confirm', endpoint({ auth: true, fresh: true, body: MfaCodeBody }), async (c) => {
    const { userId, sessionId } = c.get('auth')
    const codes = await totpOf(c).confirm(userId, c.req.valid('json').code)
    recordEvent(c, { type: 'mfa_enabled', userId, sessionId, method: 'totp' })
    return c.json({ recovery_codes: codes }, 200)
  })
  .delete('/totp', endpoint({ auth: true, fresh: true, body: MfaCodeBody }), async (c) => {
    await totpOf(c)
      .disable(c.get('user'), c.req.valid('json').code)
      .catch((error: unknown) => recordMfaFailure(c, error))
    const { userId, sessionId } = c.get('auth')
    recordEvent(c, { type: 'mfa_disabled', userId, sessionId, method: 'totp' })
    return c.body(null, 204)
  })
  .post('/recovery-codes', endpoint({ auth: true, fresh: true }), async (c) => {
    const codes = await totpOf(c).renewRecoveryCodes(c.get('auth').userId)
    return c.json({ recovery_codes: codes }, 200)
  })

/** The routes' documentation, read only by the OpenAPI generator (src/openapi/). */
export const totpRouteDocs = {
  'POST /auth/mfa/totp': {
    summary: 'Set TOTP up: a new secret',
    tag: 'mfa',
    success: { status: 200, description: 'Pending until confirmed', body: TotpSetupResponse },
    errors: ['mfa_already_enabled'],
  },
  'POST /auth/mfa/totp/confirm': {
    summary: 'Turn TOTP on with a first code',
    tag: 'mfa',
    success: {
      status: 200,
      description: 'On; the recovery codes, shown once',
      body: RecoveryCodesResponse,
    },
    errors: ['invalid_mfa_code', 'mfa_already_enabled'],
  },
  'DELETE /auth/mfa/totp': {
    summary: 'Turn TOTP off with a code or a recovery code',
    tag: 'mfa',
    success: { status: 204, description: 'Off; the recovery codes too' },
    errors: ['invalid_mfa_code', 'not_found', 'too_many_requests'],
  },
  'POST /auth/mfa/recovery-codes': {
    summary: 'New recovery codes; the old ones die',
    tag: 'mfa',
    success: { status: 200, description: 'Shown once', body: RecoveryCodesResponse },
    errors: ['not_found'],
  },
} satisfies RouteDocs
