/** /me: the signed-in user's profile, and deleting the account. */
import { Hono } from 'hono'
import { deleteAccount, renameUser } from '../auth/accounts'
import { SessionEnded } from '../auth/errors'
import type { AppEnv } from '../env'
import { presentUser } from '../http/present'
import { DeleteMeBody, UpdateMeBody } from '../http/schemas'
import { jsonBody } from '../middleware/json-body'
import { requireAuth } from '../middleware/require-auth'

export const meRoutes = new Hono<AppEnv>()
  // requireAuth has read the profile along with the session: no second query on this hot path.
  .get('/', requireAuth(), (c) => c.json({ user: presentUser(c.get('user')) }, 200))
  .patch('/', requireAuth(), jsonBody(UpdateMeBody), async (c) => {
    const user = await renameUser(c.env, c.get('auth').userId, c.req.valid('json').nickname)
    // The account went away after requireAuth read it: the same answer, challenge included.
    if (!user) throw new SessionEnded()
    return c.json({ user: presentUser(user) }, 200)
  })
  .delete('/', requireAuth(), jsonBody(DeleteMeBody), async (c) => {
    await deleteAccount(c.env, c.get('auth').userId, c.req.valid('json').password)
    return c.body(null, 204)
  })
