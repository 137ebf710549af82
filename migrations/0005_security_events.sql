-- Migration number: 0005 	 2026-12-07T14:00:00.000Z
-- Security events: what happened to an account (sign-ins, failures, credential changes, ended
-- sessions), shown to its owner by GET /auth/events and kept 90 days (the daily cron).

-- `id` orders the events (newest first) and is what a page's cursor points at. No foreign key:
-- an account's deletion removes its events in the same transaction and then records one
-- `account_deleted` event whose user_id is a hash of the old id, which no account can match.
-- `created_at` is seconds since the epoch; ip, user_agent and country are as the request gave
-- them (user_agent sanitized like a session's), null when absent.
CREATE TABLE security_events (
  id INTEGER PRIMARY KEY,
  user_id TEXT NOT NULL,
  type TEXT NOT NULL,
  method TEXT,
  created_at INTEGER NOT NULL,
  ip TEXT,
  user_agent TEXT,
  country TEXT,
  session_id TEXT
);
-- One user's events, newest first, from a cursor: a range scan of this index.
CREATE INDEX security_events_by_user ON security_events(user_id, id DESC);
-- The cron's retention: everything older than 90 days.
CREATE INDEX security_events_by_age ON security_events(created_at);
