/** MAIL_TRANSPORT=outbox (local development only): messages kept in D1, listed by GET /dev/outbox. */
import { isoNow } from '../clock'
import type { Bindings } from '../env'
import { insertOutboxMessage, listOutboxMessages } from '../store/outbox'
import type { OutboxMessage } from '../store/outbox'
import type { Mailer } from './mailer'

export const outboxMailer = (db: D1Database): Mailer => ({
  transport: 'outbox',
  async send(message) {
    await insertOutboxMessage(db, { ...message, created_at: isoNow() })
  },
})

/** The latest messages, newest first. */
export const readOutbox = (env: Bindings): Promise<OutboxMessage[]> => listOutboxMessages(env.DB)
