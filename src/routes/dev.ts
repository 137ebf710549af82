/** /dev: the local development outbox. Absent (404) unless DEV_OUTBOX=on with the outbox transport. */
import type { MiddlewareHandler } from 'hono'
import { Hono } from 'hono/tiny'
import type { AppEnv } from '../env'
import { endpoint } from '../http/endpoint'
import { ApiError } from '../http/errors'
import { OutboxResponse } from '../http/schemas'

/** Mounted before the 405 check, so that not even the methods of /dev/* are disclosed when off. */
export const devRoutesEnabled = (): MiddlewareHandler<AppEnv> =>
  async function devRoutesEnabled(c, next) {
    if (!c.var.services.options.devOutbox) throw new ApiError('not_found')
    await next()
  }

export const devRoutes = new Hono<AppEnv>().get(
  '/outbox',
  endpoint({
    summary: 'Local development only (DEV_OUTBOX=on): the messages of MAIL_TRANSPORT=outbox',
    tag: 'meta',
    success: { status: 200, description: 'The messages, newest first', body: OutboxResponse },
    errors: ['not_found'],
  }),
  async (c) => {
    const messages = await c.var.services.readOutbox()
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
  }
)
