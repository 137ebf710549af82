-- Migration number: 0006 	 2026-12-07T14:00:00.000Z
-- Device tokens: a device that signed in to an account is counted on its own login-failure
-- budget, so that a stranger's wrong guesses never lock it out. The raw token is never stored:
-- token_hash is its SHA-256. A device counts only while the account's credential_version is still
-- the one it was issued under, so a password change or reset ends every device at once. Its
-- failures live in login_failures under the key 'device:<token_hash>'.
CREATE TABLE device_tokens (
  token_hash TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  credential_version INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
);
CREATE INDEX device_tokens_by_user ON device_tokens(user_id);
