/** Pruning of rows that can no longer matter, run by the daily cron trigger. */
import { isoFromSeconds } from '../../clock'
import { DEFAULT_LIMITS } from '../../options'
import type { Maintenance, PruneResult } from '../../ports'

/**
 * Ended sessions are kept a day (an access token of a pruned session would still be refused, as
 * token_revoked, but the row helps when someone asks what happened); expired ones have no use.
 */
const ENDED_SESSION_RETENTION_SECONDS = 86_400

/** One-time tokens count toward the message limit for its window, whatever their lifetime. */
const TOKEN_COUNTING_SECONDS = DEFAULT_LIMITS.mailBudget.windowSeconds
/** Local development's outbox keeps a day of messages. */
const OUTBOX_RETENTION_SECONDS = 86_400

/** Security events are shown to their account for 90 days (account_deleted ones too), then go. */
const SECURITY_EVENT_RETENTION_SECONDS = 90 * 86_400

/** What bounds how long a row can matter: the login failure window and the longest grace. */
export interface Retention {
  loginFailureWindowSeconds: number
  maxReuseGraceSeconds: number
}

const pruneStaleRows = async (
  db: D1Database,
  retention: Retention,
  now: number
): Promise<PruneResult> => {
  const [
    sessions,
    loginFailures,
    oneTimeTokens,
    outbox,
    successorBoxes,
    securityEvents,
    devices,
    mfaChallenges,
  ] = await db.batch([
    db
      .prepare('DELETE FROM sessions WHERE expires_at <= ?1 OR revoked_at <= ?2')
      .bind(now, now - ENDED_SESSION_RETENTION_SECONDS),
    db
      .prepare('DELETE FROM login_failures WHERE window_started_at <= ?1')
      .bind(now - retention.loginFailureWindowSeconds),
    db
      .prepare('DELETE FROM one_time_tokens WHERE expires_at <= ?1 AND created_at <= ?2')
      .bind(now, now - TOKEN_COUNTING_SECONDS),
    db
      .prepare('DELETE FROM dev_outbox WHERE created_at <= ?1')
      .bind(isoFromSeconds(now - OUTBOX_RETENTION_SECONDS)),
    // A box only serves its grace window; past it, it is one more thing a stolen copy could hold.
    db
      .prepare(
        'UPDATE sessions SET successor_box = NULL WHERE successor_box IS NOT NULL AND rotated_at <= ?1'
      )
      .bind(now - retention.maxReuseGraceSeconds),
    db
      .prepare('DELETE FROM security_events WHERE created_at <= ?1')
      .bind(now - SECURITY_EVENT_RETENTION_SECONDS),
    // Expired devices, and those a password change or reset has ended (or whose account is gone).
    db
      .prepare(
        `DELETE FROM device_tokens WHERE expires_at <= ?1 OR NOT EXISTS (SELECT 1 FROM users u
             WHERE u.id = device_tokens.user_id AND u.credential_version = device_tokens.credential_version)`
      )
      .bind(now),
    // A second-factor challenge is only ever read while live (its mfa_token lasts minutes).
    db.prepare('DELETE FROM mfa_challenges WHERE expires_at <= ?1').bind(now),
  ])
  return {
    sessions: sessions.meta.changes,
    loginFailures: loginFailures.meta.changes,
    oneTimeTokens: oneTimeTokens.meta.changes,
    outbox: outbox.meta.changes,
    successorBoxes: successorBoxes.meta.changes,
    securityEvents: securityEvents.meta.changes,
    devices: devices.meta.changes,
    mfaChallenges: mfaChallenges.meta.changes,
  }
}

export const d1Maintenance = (db: D1Database, retention: Retention): Maintenance => ({
  pruneStaleRows: (now) => pruneStaleRows(db, retention, now),
})
