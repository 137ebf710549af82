-- Migration number: 0001 	 2026-11-25T21:30:00.000Z
-- Users, their sessions (one per login; the refresh-token chain's authority) and notes.

CREATE TABLE users (
  id TEXT PRIMARY KEY,
  email TEXT NOT NULL UNIQUE,
  nickname TEXT,
  password_hash TEXT NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);

-- One row per login. The raw refresh token is never stored: refresh_hash is the SHA-256 of
-- the chain's current token, previous_hash the one it replaced (kept for the reuse grace
-- window), successor_box the current token sealed with a key only the previous token's
-- holder can derive, so that a racing duplicate refresh receives the same token.
CREATE TABLE sessions (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  refresh_hash TEXT NOT NULL,
  previous_hash TEXT,
  rotated_at INTEGER,
  successor_box TEXT,
  user_agent TEXT,
  created_at INTEGER NOT NULL,
  last_used_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  revoked_at INTEGER
);
CREATE INDEX sessions_by_user ON sessions(user_id, created_at);

CREATE TABLE notes (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  title TEXT NOT NULL,
  body TEXT NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX notes_by_user ON notes(user_id, created_at);

-- Failed logins per account, counted with an atomic upsert so that concurrent failures
-- cannot undercount.
CREATE TABLE login_failures (
  email TEXT PRIMARY KEY,
  failures INTEGER NOT NULL,
  window_started_at INTEGER NOT NULL
);
