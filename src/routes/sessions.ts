/** /auth/sessions: the signed-in user's live sessions, and ending one of them. */
import { Hono } from 'hono'
import { forgetRefreshTokens } from '../auth/accounts'
import { nowSeconds } from '../clock'
import type { AppEnv } from '../env'
import { ApiError } from '../http/errors'
import { presentSession } from '../http/present'
import { requireAuth } from '../middleware/require-auth'
import { listLiveSessions, revokeUserSessions } from '../store/sessions'

export const sessionRoutes = new Hono<AppEnv>()
  .get('/', requireAuth(), async (c) => {
    const { userId, sessionId } = c.get('auth')
    const sessions = await listLiveSessions(c.env.DB, userId, nowSeconds())
    return c.json({ sessions: sessions.map((session) => presentSession(session, sessionId)) }, 200)
  })
  .delete('/:id', requireAuth(), async (c) => {
    // Another user's session is as absent as one that never existed.
    const ended = await revokeUserSessions(
      c.env.DB,
      c.get('auth').userId,
      { only: c.req.param('id') },
      nowSeconds()
    )
    if (ended.length === 0) throw new ApiError('not_found', { message: 'No such session.' })
    await forgetRefreshTokens(c.env, ended)
    return c.body(null, 204)
  })
