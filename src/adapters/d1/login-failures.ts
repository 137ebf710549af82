/**
 * Failed password checks per account (keyed by email) or per known device (`device:<hash>`; an
 * email always has an @, so the keys never meet), in D1. An attempt reserves its place in the count before
 * any hashing, in one atomic statement, so that however many attempts arrive at once no more than
 * the limit are ever checked in a window; a right password gives its place back. KV's eventual
 * consistency could not count like this.
 */

import type { FailureWindow, LoginThrottle, Reservation } from '../../ports'

interface CounterRow {
  failures: number
  window_started_at: number
}

/**
 * Takes one place in the account's window (opening a new window when the old one has passed), or
 * returns the lockout when the window is full. The upsert only updates a row with room left, so a
 * refused attempt leaves the count as it was; the SELECT in the same transaction gives the
 * refused attempt its Retry-After.
 */
const reserveAttempt = async (
  db: D1Database,
  window: FailureWindow,
  key: string,
  now: number
): ReturnType<LoginThrottle['reserve']> => {
  const windowOpenSince = now - window.windowSeconds
  const [reserved, current] = await db.batch<CounterRow>([
    db
      .prepare(
        `INSERT INTO login_failures (email, failures, window_started_at) VALUES (?1, 1, ?2)
           ON CONFLICT (email) DO UPDATE SET
             failures = CASE WHEN window_started_at <= ?3 THEN 1 ELSE failures + 1 END,
             window_started_at = CASE WHEN window_started_at <= ?3 THEN ?2 ELSE window_started_at END
           WHERE window_started_at <= ?3 OR failures < ?4
           RETURNING failures, window_started_at`
      )
      .bind(key, now, windowOpenSince, window.limit),
    db.prepare('SELECT failures, window_started_at FROM login_failures WHERE email = ?1').bind(key),
  ])
  const row = reserved.results?.[0]
  if (row) return { reservation: { key, windowStartedAt: row.window_started_at }, lockout: null }
  const windowStartedAt = current.results?.[0]?.window_started_at ?? now
  const retryAfter = Math.max(1, windowStartedAt + window.windowSeconds - now)
  return { reservation: null, lockout: { retryAfter } }
}

/**
 * Gives a place back after a right password: only wrong passwords count. Never resets the count,
 * so that a success cannot wipe the places of wrong guesses still in flight.
 */
export const releaseAttemptStatement = (
  db: D1Database,
  reservation: Reservation
): D1PreparedStatement =>
  db
    .prepare(
      `UPDATE login_failures SET failures = failures - 1
        WHERE email = ?1 AND window_started_at = ?2 AND failures > 0`
    )
    .bind(reservation.key, reservation.windowStartedAt)

export const d1LoginThrottle = (db: D1Database, window: FailureWindow): LoginThrottle => ({
  reserve: (key, now) => reserveAttempt(db, window, key, now),
  async release(reservation) {
    await releaseAttemptStatement(db, reservation).run()
  },
})
