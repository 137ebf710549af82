/** The local development outbox (MAIL_TRANSPORT=outbox): messages kept in D1 instead of sent. */
import { guardD1 } from './guard'

export interface OutboxMessage {
  to: string
  subject: string
  text: string
  html: string
  created_at: string
}

/** GET /dev/outbox shows at most this many, newest first. */
const OUTBOX_PAGE = 50

export const insertOutboxMessage = async (
  db: D1Database,
  message: OutboxMessage
): Promise<void> => {
  await guardD1(() =>
    db
      .prepare(
        'INSERT INTO dev_outbox (recipient, subject, text_body, html_body, created_at) VALUES (?1, ?2, ?3, ?4, ?5)'
      )
      .bind(message.to, message.subject, message.text, message.html, message.created_at)
      .run()
  )
}

export const listOutboxMessages = async (db: D1Database): Promise<OutboxMessage[]> => {
  const result = await guardD1(() =>
    db
      .prepare(
        `SELECT recipient AS "to", subject, text_body AS text, html_body AS html, created_at
           FROM dev_outbox ORDER BY id DESC LIMIT ?1`
      )
      .bind(OUTBOX_PAGE)
      .all<OutboxMessage>()
  )
  return result.results
}
