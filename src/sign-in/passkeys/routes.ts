/** /auth/passkeys: registering, listing and removing passkeys, and signing in with one. */
import { Hono } from 'hono/tiny'
import type { AppEnv } from '../../env'
import { endpoint } from '../../http/endpoint'
import type { RouteDocs } from '../../http/endpoint'
import { ApiError } from '../../http/errors'
import { IssuedTokensResponse } from '../../http/schemas'
import { recordEvent } from '../../http/security-events'
import { signInResponse } from '../../http/token-response'
import { userAgentOf } from '../../http/user-agent'
import { mfaRequired } from '../../routes/auth'
import { InvalidPasskey } from './errors'
import type { PasskeyService } from './passkeys'
import {
  EmptyBody,
  MfaTokenBody,
  PasskeyListResponse,
  PasskeyLoginBody,
  PasskeyResponse,
  RegisterPasskeyBody,
  WebAuthnOptions,
} from './schemas'
import type { PasskeyRow } from './store'

const passkeysOf = (c: { var: AppEnv['Variables'] }) =>
  c.var.services.features.passkeys as PasskeyService

const presentPasskey = (passkey: PasskeyRow) => ({
  id: passkey.id,
  name: passkey.name,
  created_at: passkey.created_at,
  last_used_at: passkey.last_used_at,
})

export const passkeyRoutes = new Hono<AppEnv>()
  .post('/register/options', endpoint({ auth: true, fresh: true }), async (c) =>
    c.json(await passkeysOf(c).registrationOptions(c.var.user), 200)
  )
  .post(
    '/register',
    endpoint({ auth: true, fresh: true, body: RegisterPasskeyBody }),
    async (c) => {
      const { credential, name } = c.req.valid('json')
      const { userId, sessionId } = c.get('auth')
      try {
        const passkey = await passkeysOf(c).register(userId, credential, name)
        recordEvent(c, { type: 'passkey_added', userId, sessionId })
        return c.json({ passkey: presentPasskey(passkey) }, 201)
      } catch (error) {
        // A registration that does not verify is a bad request, not a failed sign-in.
        if (error instanceof InvalidPasskey) throw new ApiError('invalid_passkey', { status: 400 })
        throw error
      }
    }
  )
  .get('/', endpoint({ auth: true }), async (c) => {
    const passkeys = await passkeysOf(c).store.listByUser(c.get('auth').userId)
    return c.json({ passkeys: passkeys.map(presentPasskey) }, 200)
  })
  .delete('/:id', endpoint({ auth: true, fresh: true }), async (c) => {
    // Another user's passkey is as absent as one that never existed.
    const { userId, sessionId } = c.get('auth')
    if (!(await passkeysOf(c).store.delete(userId, c.req.param('id')))) {
      throw new ApiError('not_found', { message: 'No such passkey.' })
    }
    recordEvent(c, { type: 'passkey_removed', userId, sessionId })
    return c.body(null, 204)
  })
  .post('/login/options', endpoint({ body: EmptyBody, bodyRequired: false }), async (c) => {
    const service = passkeysOf(c)
    return c.json(service.requestOptions(await service.issueChallenge('login', '')), 200)
  })
  .post('/login', endpoint({ cookieMode: true, body: PasskeyLoginBody }), async (c) => {
    const { credential } = c.req.valid('json')
    const outcome = await passkeysOf(c).login(credential, {
      userAgent: userAgentOf(c),
    })
    if (outcome.kind === 'session') {
      const { userId, sessionId } = outcome.tokens
      recordEvent(c, { type: 'login', userId, sessionId, method: 'passkey' })
    }
    return signInResponse(c, outcome, 200)
  })

/** /auth/mfa/passkey: a passkey as the second factor of a sign-in (then POST /auth/mfa/verify). */
export const mfaPasskeyRoutes = new Hono<AppEnv>().post(
  '/options',
  endpoint({ body: MfaTokenBody }),
  async (c) => {
    // The challenge is bound to the mfa_token's id, the one /auth/mfa/verify hands to verify.
    const { id, user_id: userId } = await c.var.services.secondFactor.peek(
      c.req.valid('json').mfa_token
    )
    const service = passkeysOf(c)
    const [challenge, passkeys] = await Promise.all([
      service.issueChallenge('mfa', id),
      service.store.listByUser(userId),
    ])
    return c.json(service.requestOptions(challenge, passkeys), 200)
  }
)

/** The routes' documentation, read only by the OpenAPI generator (src/openapi/). */
export const passkeyRouteDocs = {
  'POST /auth/passkeys/register/options': {
    summary: 'Options to create a passkey',
    tag: 'passkeys',
    success: {
      status: 200,
      description: 'PublicKeyCredentialCreationOptionsJSON',
      body: WebAuthnOptions,
    },
  },
  'POST /auth/passkeys/register': {
    summary: 'Add a passkey',
    tag: 'passkeys',
    success: { status: 201, description: 'The passkey', body: PasskeyResponse },
    errors: [['invalid_passkey', 400]],
  },
  'GET /auth/passkeys': {
    summary: "List the user's passkeys",
    tag: 'passkeys',
    success: { status: 200, description: 'The passkeys', body: PasskeyListResponse },
  },
  'DELETE /auth/passkeys/:id': {
    summary: 'Remove a passkey',
    tag: 'passkeys',
    success: { status: 204, description: 'Removed' },
    errors: ['not_found'],
  },
  'POST /auth/passkeys/login/options': {
    summary: 'Options to sign in with a passkey',
    tag: 'passkeys',
    success: {
      status: 200,
      description: 'PublicKeyCredentialRequestOptionsJSON',
      body: WebAuthnOptions,
    },
  },
  'POST /auth/passkeys/login': {
    summary: 'Sign in with a passkey',
    tag: 'passkeys',
    success: {
      status: 200,
      description: 'A new session has begun',
      body: IssuedTokensResponse,
      headers: ['Cache-Control', 'Pragma', 'Set-Cookie'],
    },
    alsoSuccess: [mfaRequired],
    errors: ['invalid_passkey', 'too_many_requests'],
  },
  'POST /auth/mfa/passkey/options': {
    summary: 'Options to answer a second factor with a passkey',
    tag: 'mfa',
    success: {
      status: 200,
      description: 'PublicKeyCredentialRequestOptionsJSON',
      body: WebAuthnOptions,
    },
    errors: ['invalid_mfa_token'],
  },
} satisfies RouteDocs
