/**
 * /dev: the local development outbox. Absent (404) unless DEV_OUTBOX=on with the outbox transport,
 * and then only to a loopback Host.
 */
import type { Context } from 'hono'
import { Hono } from 'hono/tiny'
import type { AppEnv } from '../env'
import { endpoint } from '../http/endpoint'
import type { RouteDocs } from '../http/endpoint'
import { ApiError } from '../http/errors'
import { OutboxResponse } from '../http/schemas'
import { isLoopbackHost } from '../options'

const PORT = /^\d{1,5}$/

/** A Host header's name without its port ("[::1]:8787" -> "[::1]"); anything else as it is. */
const hostnameOf = (host: string): string => {
  const colon = host.lastIndexOf(':')
  const port = host.slice(colon + 1)
  return colon > host.lastIndexOf(']') && port.length <= 5 && PORT.test(port)
    ? host.slice(0, colon)
    : host
}

/**
 * A step of the request gate (src/http/csrf.ts), after the body limit and before the 405 check,
 * so that not even the methods of /dev/* are disclosed when off. Only for a loopback Host: a page
 * whose own name was rebound to 127.0.0.1 (DNS rebinding) sends its own name, and must not read
 * the live links of the outbox.
 */
export const refuseDisabledDevRoute = (c: Context<AppEnv>): void => {
  const path = c.req.path
  if (path !== '/dev' && !path.startsWith('/dev/')) return
  const host = c.req.header('Host') ?? new URL(c.req.url).host
  if (!c.get('services').options.devOutbox || !isLoopbackHost(hostnameOf(host))) {
    throw new ApiError('not_found')
  }
}

export const devRoutes = new Hono<AppEnv>().get('/outbox', endpoint(), async (c) => {
  const messages = await c.get('services').readOutbox()
  return c.json(
    {
      messages: messages.map(({ to, subject, text, created_at: createdAt }) => ({
        to,
        subject,
        text,
        created_at: createdAt,
      })),
    },
    200
  )
})

/** The routes' documentation, read only by the OpenAPI generator (src/openapi/). */
export const devDocs = {
  'GET /dev/outbox': {
    summary: 'Local development only (DEV_OUTBOX=on): the messages of MAIL_TRANSPORT=outbox',
    tag: 'meta',
    success: { status: 200, description: 'The messages, newest first', body: OutboxResponse },
    errors: ['not_found'],
  },
} satisfies RouteDocs
