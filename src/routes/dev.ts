/** /dev: the local development outbox. Absent (404) unless DEV_OUTBOX=on. */
import { Hono } from 'hono'
import type { MiddlewareHandler } from 'hono'
import { readConfig } from '../config'
import type { AppEnv } from '../env'
import { ApiError } from '../http/errors'
import { readOutbox } from '../mail/outbox'

/** Mounted before the 405 check, so that not even the methods of /dev/* are disclosed when off. */
export const devRoutesEnabled = (): MiddlewareHandler<AppEnv> =>
  async function devRoutesEnabled(c, next) {
    if (!readConfig(c.env).devOutbox) throw new ApiError('not_found')
    await next()
  }

export const devRoutes = new Hono<AppEnv>().get('/outbox', async (c) => {
  const messages = await readOutbox(c.env)
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
