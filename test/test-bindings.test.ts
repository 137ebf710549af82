/**
 * The suite runs with wrangler.toml's [vars] and its own test secret, whatever a developer's
 * .dev.vars holds (CI runs the suite with a hostile .dev.vars in place to prove it).
 */
import { env } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { registerUser } from './helpers/accounts'

describe('the bindings the suite runs with', () => {
  it("are wrangler.toml's vars (but the client limiter's mode and the issuer), not a developer's .dev.vars", () => {
    const vars = env.TEST_WRANGLER_VARS
    expect(Object.keys(vars)).toContain('ACCESS_TOKEN_TTL')
    const seen = Object.fromEntries(
      Object.keys(vars).map((name) => [name, (env as unknown as Record<string, unknown>)[name]])
    )
    // The vars the suite sets itself: the per-client limiter is off unless a test binds one, and
    // the issuer is a deployment-like URL instead of wrangler.toml's placeholder name.
    expect(seen).toEqual({ ...vars, CLIENT_RATE_LIMIT_MODE: 'off', JWT_ISSUER: env.TEST_ISSUER })
    expect(env.JWT_ISSUER).toBe('https://auth.example.test')
    expect(env.JWT_SECRET).toBe(env.TEST_JWT_SECRET)
  })

  it("issue tokens with wrangler.toml's lifetimes", async () => {
    const account = await registerUser()
    expect(account.tokens.expires_in).toBe(Number(env.TEST_WRANGLER_VARS.ACCESS_TOKEN_TTL))
    expect(account.tokens.refresh_expires_in).toBe(Number(env.TEST_WRANGLER_VARS.REFRESH_TOKEN_TTL))
  })
})
