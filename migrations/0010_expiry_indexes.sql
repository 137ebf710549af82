-- Rows that can no longer be used are deleted by their expiry: the daily cron sweeps expired
-- second-factor challenges, and each new state or login code of a sign-in with an identity
-- provider takes the expired ones with it (as passkey challenges do, by their own index).
CREATE INDEX mfa_challenges_by_expiry ON mfa_challenges(expires_at);
CREATE INDEX oidc_states_by_expiry ON oidc_states(expires_at);
CREATE INDEX oidc_login_codes_by_expiry ON oidc_login_codes(expires_at);
