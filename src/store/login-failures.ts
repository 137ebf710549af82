/**
 * Failed logins per account, in D1: one atomic upsert per failure, so that concurrent failures
 * from many isolates cannot undercount (KV's eventual consistency would).
 */
import { guardD1 } from './guard'

export const LOGIN_FAILURE_LIMIT = 10
export const LOGIN_FAILURE_WINDOW_SECONDS = 15 * 60

export interface Lockout {
  retryAfter: number
}

const lockoutFrom = (failures: number, windowStartedAt: number, now: number): Lockout | null => {
  const windowEndsAt = windowStartedAt + LOGIN_FAILURE_WINDOW_SECONDS
  if (failures < LOGIN_FAILURE_LIMIT || windowEndsAt <= now) return null
  return { retryAfter: windowEndsAt - now }
}

/** `counted`: failures are on record, so that a successful login has something to clear. */
export const findLockout = async (
  db: D1Database,
  email: string,
  now: number
): Promise<{ lockout: Lockout | null; counted: boolean }> => {
  const row = await guardD1(() =>
    db
      .prepare('SELECT failures, window_started_at FROM login_failures WHERE email = ?1')
      .bind(email)
      .first<{ failures: number; window_started_at: number }>()
  )
  if (!row) return { lockout: null, counted: false }
  return { lockout: lockoutFrom(row.failures, row.window_started_at, now), counted: true }
}

/** Counts one failure (opening a new window when the old one has passed); returns the lockout it causes. */
export const recordLoginFailure = async (
  db: D1Database,
  email: string,
  now: number
): Promise<{ failures: number; lockout: Lockout | null }> => {
  const windowOpenSince = now - LOGIN_FAILURE_WINDOW_SECONDS
  const row = await guardD1(() =>
    db
      .prepare(
        `INSERT INTO login_failures (email, failures, window_started_at) VALUES (?1, 1, ?2)
         ON CONFLICT (email) DO UPDATE SET
           failures = CASE WHEN window_started_at <= ?3 THEN 1 ELSE failures + 1 END,
           window_started_at = CASE WHEN window_started_at <= ?3 THEN ?2 ELSE window_started_at END
         RETURNING failures, window_started_at`
      )
      .bind(email, now, windowOpenSince)
      .first<{ failures: number; window_started_at: number }>()
  )
  const failures = row?.failures ?? 1
  // Only failures beyond the limit are refused outright; the one that reaches it is still a 401.
  const lockout =
    failures > LOGIN_FAILURE_LIMIT
      ? lockoutFrom(failures, row?.window_started_at ?? now, now)
      : null
  return { failures, lockout }
}

export const clearLoginFailures = async (db: D1Database, email: string): Promise<void> => {
  await guardD1(() => db.prepare('DELETE FROM login_failures WHERE email = ?1').bind(email).run())
}
