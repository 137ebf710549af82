-- Migration number: 0009 	 2026-12-07T14:00:00.000Z
-- Sign-in with an identity provider (OpenID Connect): pending sign-ins, one-time login codes and
-- the identities linked to accounts.

-- One row per started sign-in or link. Nothing here redeems anything on its own: state_hash is
-- the SHA-256 of the `state` sent to the provider, browser_hash that of the __Host-oidc cookie's
-- secret, from which alone the PKCE verifier and the nonce are derived. used_at decides single
-- use in one conditional UPDATE. link_user_id is set when a signed-in account links an identity,
-- with the credential version it had then: a reset or password change meanwhile kills the link.
CREATE TABLE oidc_states (
  state_hash TEXT PRIMARY KEY,
  provider TEXT NOT NULL,
  browser_hash TEXT NOT NULL,
  return_to TEXT NOT NULL,
  link_user_id TEXT REFERENCES users(id) ON DELETE CASCADE,
  link_credential_version INTEGER,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  used_at INTEGER
);

-- The `#login=<code>` a callback hands to the front end, kept as its SHA-256, single use and
-- short-lived; the session starts when it is exchanged, from the sign-in checked at the callback,
-- in the browser (browser_hash, as the state's) that went through the provider.
CREATE TABLE oidc_login_codes (
  code_hash TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  auth_time INTEGER NOT NULL,
  credential_version INTEGER NOT NULL,
  browser_hash TEXT NOT NULL,
  expires_at INTEGER NOT NULL,
  used_at INTEGER
);

-- An identity is the pair (provider, subject). address_verified: whether the account's address
-- was verified when the identity was linked; a reset by the address's owner removes the ones
-- linked before (pre-account takeover).
CREATE TABLE oidc_identities (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  provider TEXT NOT NULL,
  subject TEXT NOT NULL,
  email TEXT,
  address_verified INTEGER NOT NULL,
  created_at TEXT NOT NULL,
  UNIQUE (provider, subject)
);
CREATE INDEX oidc_identities_by_user ON oidc_identities(user_id);
