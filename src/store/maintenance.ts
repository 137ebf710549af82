/** Pruning of rows that can no longer matter, run by the daily cron trigger. */
import { guardD1 } from './guard'
import { LOGIN_FAILURE_WINDOW_SECONDS } from './login-failures'

/**
 * Ended sessions are kept a day (an access token of a pruned session would still be refused, as
 * token_revoked, but the row helps when someone asks what happened); expired ones have no use.
 */
export const ENDED_SESSION_RETENTION_SECONDS = 86_400

export interface PruneResult {
  sessions: number
  loginFailures: number
}

export const pruneStaleRows = async (db: D1Database, now: number): Promise<PruneResult> => {
  const [sessions, loginFailures] = await guardD1(() =>
    db.batch([
      db
        .prepare('DELETE FROM sessions WHERE expires_at <= ?1 OR revoked_at <= ?2')
        .bind(now, now - ENDED_SESSION_RETENTION_SECONDS),
      db
        .prepare('DELETE FROM login_failures WHERE window_started_at <= ?1')
        .bind(now - LOGIN_FAILURE_WINDOW_SECONDS),
    ])
  )
  return { sessions: sessions.meta.changes, loginFailures: loginFailures.meta.changes }
}
