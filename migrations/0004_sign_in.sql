-- Migration number: 0004 	 2026-12-03T13:00:00.000Z
-- The sign-in seam: a session starts from a verified sign-in, not from a password hash.

-- Bumped by every change of how the account signs in (a password change or reset). A session
-- insert lands only while the version read with the checked credential is still current, so no
-- sign-in checked against an old credential outlives the change.
ALTER TABLE users ADD COLUMN credential_version INTEGER NOT NULL DEFAULT 0;

-- How and when the session's user last proved who they are (the access token's `amr`, a JSON
-- array of RFC 8176 values, and `auth_time`, seconds since the epoch); refreshing keeps both.
ALTER TABLE sessions ADD COLUMN amr TEXT NOT NULL DEFAULT '["pwd"]';
ALTER TABLE sessions ADD COLUMN auth_time INTEGER;
