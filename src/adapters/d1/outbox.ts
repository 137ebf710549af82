/** The local development outbox (MAIL_TRANSPORT=outbox): messages kept in D1 instead of sent. */
import type { OutboxMessage, OutboxStore } from '../../ports'

/** GET /dev/outbox shows at most this many, newest first. */
const OUTBOX_PAGE = 50

const insertOutboxMessage = async (db: D1Database, message: OutboxMessage): Promise<void> => {
  await db
    .prepare(
      'INSERT INTO dev_outbox (recipient, subject, text_body, html_body, created_at) VALUES (?1, ?2, ?3, ?4, ?5)'
    )
    .bind(message.to, message.subject, message.text, message.html, message.created_at)
    .run()
}

const listOutboxMessages = async (db: D1Database): Promise<OutboxMessage[]> => {
  const result = await db
    .prepare(
      `SELECT recipient AS "to", subject, text_body AS text, html_body AS html, created_at
           FROM dev_outbox ORDER BY id DESC LIMIT ?1`
    )
    .bind(OUTBOX_PAGE)
    .all<OutboxMessage>()
  return result.results
}

export const d1OutboxStore = (db: D1Database): OutboxStore => ({
  insert: (message) => insertOutboxMessage(db, message),
  list: () => listOutboxMessages(db),
})
