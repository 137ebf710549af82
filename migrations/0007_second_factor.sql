-- Migration number: 0007 	 2026-12-07T14:00:00.000Z
-- A second factor: sign-in challenges between the factors, TOTP credentials, recovery codes.

-- Which second factors the account has, as the user object shows them ({"totp":true,
-- "passkeys":2}); each feature keeps its own key with json_set in the batch that changes its rows.
-- Read with the user (and with the session check), so a login learns it without another query.
ALTER TABLE users ADD COLUMN mfa TEXT NOT NULL DEFAULT '{}';

-- One row per mfa_token (the 202 of a first factor). id is the SHA-256 of the token; the raw
-- token is never stored. used_at and failures decide single use and the 5 wrong answers in
-- conditional UPDATEs. amr is the first factor's; credential_version the account's when the
-- first factor was checked, so that a password change in between starts no session.
CREATE TABLE mfa_challenges (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  amr TEXT NOT NULL,
  credential_version INTEGER NOT NULL,
  failures INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  used_at INTEGER
);
CREATE INDEX mfa_challenges_by_user ON mfa_challenges(user_id);

-- The TOTP secret, AES-GCM encrypted (user id as associated data) under a key derived from
-- MFA_SECRET. confirmed_at is NULL while the setup is pending. last_step is the latest time step
-- accepted; a code is accepted only by the UPDATE that raises it, so each step works once.
CREATE TABLE totp_credentials (
  user_id TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
  secret_box TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  confirmed_at INTEGER,
  last_step INTEGER NOT NULL DEFAULT 0
);

-- Recovery codes: only an HMAC of each (keyed from MFA_SECRET, bound to the user id); used_at
-- is set by the one UPDATE that accepts the code.
CREATE TABLE recovery_codes (
  code_hash TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  used_at INTEGER
);
CREATE INDEX recovery_codes_by_user ON recovery_codes(user_id);
