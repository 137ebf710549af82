/** /auth/events: the signed-in user's security events, newest first. */
import { Hono } from 'hono/tiny'
import type { AppEnv } from '../env'
import { endpoint } from '../http/endpoint'
import type { RouteDocs } from '../http/endpoint'
import { presentSecurityEvent } from '../http/present'
import { SecurityEventListResponse } from '../http/schemas'

export const eventRoutes = new Hono<AppEnv>().get('/', endpoint({ auth: true }), async (c) => {
  const page = await c.var.services.events.list(c.get('auth').userId, c.req.query('cursor'))
  return c.json(
    { events: page.events.map(presentSecurityEvent), next_cursor: page.nextCursor },
    200
  )
})

/** The routes' documentation, read only by the OpenAPI generator (src/openapi/). */
export const eventDocs = {
  'GET /auth/events': {
    summary: "The user's security events, newest first, 50 a page",
    tag: 'account',
    query: { cursor: 'next_cursor of the previous page' },
    success: { status: 200, description: 'One page of events', body: SecurityEventListResponse },
    errors: ['validation_failed'],
  },
} satisfies RouteDocs
