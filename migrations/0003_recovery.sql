-- Migration number: 0003 	 2026-12-02T04:55:00.000Z
-- Account recovery and email verification: one-time tokens, the verified flag, and the local
-- development outbox.

-- When the address was proven to belong to the account holder; NULL until then.
ALTER TABLE users ADD COLUMN email_verified_at TEXT;

-- One row per message sent with a token (password reset or email verification). The raw token
-- is never stored: token_hash is its SHA-256. used_at decides single use in one conditional
-- UPDATE. password_fingerprint (reset tokens only) is the SHA-256 of the password hash the
-- account had when the token was issued, so that any later password change kills the token.
-- The rows of the last hour also count the messages sent to an account (at most 3 per hour).
CREATE TABLE one_time_tokens (
  token_hash TEXT PRIMARY KEY,
  purpose TEXT NOT NULL CHECK (purpose IN ('password_reset', 'email_verification')),
  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  email TEXT NOT NULL,
  password_fingerprint TEXT,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  used_at INTEGER
);
CREATE INDEX one_time_tokens_by_user ON one_time_tokens(user_id, created_at);

-- MAIL_TRANSPORT=outbox (local development only): the messages themselves, for GET /dev/outbox.
CREATE TABLE dev_outbox (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  recipient TEXT NOT NULL,
  subject TEXT NOT NULL,
  text_body TEXT NOT NULL,
  html_body TEXT NOT NULL,
  created_at TEXT NOT NULL
);
