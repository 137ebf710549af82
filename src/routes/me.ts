/** /me: the signed-in user's profile, and deleting the account. */
import { Hono } from 'hono/tiny'
import { SessionEnded } from '../auth/errors'
import type { AppEnv } from '../env'
import { endpoint } from '../http/endpoint'
import type { RouteDocs } from '../http/endpoint'
import { presentUser } from '../http/present'
import { DeleteMeBody, UpdateMeBody, UserResponse } from '../http/schemas'
import { recordEvent } from '../http/security-events'

export const meRoutes = new Hono<AppEnv>()
  // requireAuth has read the profile along with the session: no second query on this hot path.
  .get('/', endpoint({ auth: true }), (c) => c.json({ user: presentUser(c.get('user')) }, 200))
  .patch('/', endpoint({ auth: true, body: UpdateMeBody }), async (c) => {
    const user = await c
      .get('services')
      .accounts.rename(c.get('auth').userId, c.req.valid('json').nickname)
    // The account went away after requireAuth read it: the same answer, challenge included.
    if (!user) throw new SessionEnded()
    return c.json({ user: presentUser(user) }, 200)
  })
  .delete('/', endpoint({ auth: true, body: DeleteMeBody }), async (c) => {
    const { userId } = c.get('auth')
    await c.get('services').accounts.delete(userId, c.req.valid('json').password)
    // Written after the deletion, anonymised: the account's other events went with it.
    recordEvent(c, { type: 'account_deleted', userId })
    return c.body(null, 204)
  })

/** The routes' documentation, read only by the OpenAPI generator (src/openapi/). */
export const meDocs = {
  'GET /me': {
    summary: 'The signed-in user',
    tag: 'account',
    success: { status: 200, description: 'The user', body: UserResponse },
  },
  'PATCH /me': {
    summary: 'Change the nickname',
    tag: 'account',
    success: { status: 200, description: 'The changed user', body: UserResponse },
  },
  'DELETE /me': {
    summary: 'Delete the account and everything in it',
    tag: 'account',
    success: {
      status: 204,
      description: 'Deleted; every session has ended',
      headers: ['Set-Cookie'],
    },
    errors: [['invalid_credentials', 403], 'too_many_requests'],
  },
} satisfies RouteDocs
