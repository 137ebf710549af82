/** The security events table: one insert per event, and a user's events a page at a time. */
import type { NewSecurityEvent, SecurityEventRow, SecurityEventStore } from '../../ports'

const insertEvent = async (db: D1Database, event: NewSecurityEvent): Promise<void> => {
  await db
    .prepare(
      `INSERT INTO security_events
         (user_id, type, method, created_at, ip, user_agent, country, session_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)`
    )
    .bind(
      event.user_id,
      event.type,
      event.method,
      event.created_at,
      event.ip,
      event.user_agent,
      event.country,
      event.session_id
    )
    .run()
}

// A missing cursor reads from the newest event: no id is larger than SQLite's largest integer.
const NEWEST = Number.MAX_SAFE_INTEGER

const listUserEvents = async (
  db: D1Database,
  userId: string,
  before: number | null,
  limit: number
): Promise<SecurityEventRow[]> => {
  const result = await db
    .prepare(
      `SELECT * FROM security_events WHERE user_id = ?1 AND id < ?2 ORDER BY id DESC LIMIT ?3`
    )
    .bind(userId, before ?? NEWEST, limit)
    .all<SecurityEventRow>()
  return result.results
}

export const d1SecurityEventStore = (db: D1Database): SecurityEventStore => ({
  insert: (event) => insertEvent(db, event),
  listByUser: (userId, before, limit) => listUserEvents(db, userId, before, limit),
})
