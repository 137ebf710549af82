-- Migration number: 0008 	 2026-12-10T10:00:00.000Z
-- Passkeys (WebAuthn): credentials and their single-use challenges.

-- A credential id belongs to one account (UNIQUE across all of them). The public key is stored
-- as a JWK for Web Crypto; sign_count is the authenticator's counter (0: it keeps none).
CREATE TABLE passkeys (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  credential_id TEXT NOT NULL UNIQUE,
  public_key TEXT NOT NULL,
  algorithm INTEGER NOT NULL,
  sign_count INTEGER NOT NULL,
  name TEXT NOT NULL,
  created_at TEXT NOT NULL,
  last_used_at TEXT
);
CREATE INDEX passkeys_by_user ON passkeys(user_id, created_at);

-- Only the challenge's SHA-256 is kept. It answers one purpose ('registration', 'login', 'mfa')
-- for one subject (the user registering, the mfa_token's hash, or '' for a login), once: used_at
-- is set by a conditional UPDATE, so two answers racing with it cannot both win.
CREATE TABLE passkey_challenges (
  challenge_hash TEXT PRIMARY KEY,
  purpose TEXT NOT NULL,
  subject TEXT NOT NULL,
  expires_at INTEGER NOT NULL,
  used_at INTEGER
);
CREATE INDEX passkey_challenges_by_expiry ON passkey_challenges(expires_at);
