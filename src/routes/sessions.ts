/** /auth/sessions: the signed-in user's live sessions, and ending one of them. */
import { Hono } from 'hono/tiny'
import type { AppEnv } from '../env'
import { endpoint } from '../http/endpoint'
import type { RouteDocs } from '../http/endpoint'
import { ApiError } from '../http/errors'
import { presentSession } from '../http/present'
import { SessionListResponse } from '../http/schemas'
import { recordEvent } from '../http/security-events'

export const sessionRoutes = new Hono<AppEnv>()
  .get('/', endpoint({ auth: true }), async (c) => {
    const { userId, sessionId } = c.get('auth')
    const sessions = await c.var.services.sessions.list(userId)
    return c.json({ sessions: sessions.map((session) => presentSession(session, sessionId)) }, 200)
  })
  .delete('/:id', endpoint({ auth: true }), async (c) => {
    // Another user's session is as absent as one that never existed.
    const { userId } = c.get('auth')
    const sessionId = c.req.param('id')
    const ended = await c.var.services.sessions.end(userId, { only: sessionId })
    if (ended === 0) throw new ApiError('not_found', { message: 'No such session.' })
    recordEvent(c, { type: 'session_revoked', userId, sessionId })
    return c.body(null, 204)
  })

/** The routes' documentation, read only by the OpenAPI generator (src/openapi/). */
export const sessionDocs = {
  'GET /auth/sessions': {
    summary: "List the user's live sessions",
    tag: 'sessions',
    success: { status: 200, description: 'The live sessions', body: SessionListResponse },
  },
  'DELETE /auth/sessions/:id': {
    summary: 'End one session',
    tag: 'sessions',
    success: { status: 204, description: 'Ended', headers: ['Set-Cookie'] },
    errors: ['not_found'],
  },
} satisfies RouteDocs
