/**
 * Predicates of the D1 stores that the HTTP routes cannot reach on their own (the route reads the
 * row first and would refuse earlier), so the store must hold its promise by itself: each test is
 * a store call that one predicate of its SQL alone refuses. Found by `npm run test:mutation`.
 */
import { env } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { cloudflarePorts } from '../src/adapters'
import type { AuthPorts, NewUser } from '../src/ports'

const NOW = 1_900_000_000

const portsOverTestStorage = (): AuthPorts =>
  cloudflarePorts({ db: env.DB, refreshTokens: env.REFRESH_TOKENS })

const newUser = (): NewUser => {
  const id = crypto.randomUUID()
  return {
    id,
    email: `predicates-${id}@example.com`,
    nickname: null,
    password_hash: `hash-${id}`,
    created_at: new Date(NOW * 1000).toISOString(),
  }
}

const resetToken = (user: NewUser, tokenHash: string) => ({
  tokenHash,
  purpose: 'password_reset' as const,
  userId: user.id,
  email: user.email,
  passwordFingerprint: 'fingerprint',
  now: NOW,
  expiresAt: NOW + 1800,
})

describe('one-time tokens: a password reset lands only with its own live token', () => {
  it('a used token does not move the password, even while another token of the user is live', async () => {
    const ports = portsOverTestStorage()
    const user = newUser()
    await ports.users.insert(user)
    const budget = { limit: 5, windowSeconds: 3600 }
    const used = `used-${user.id}`
    const spare = `spare-${user.id}`
    expect(await ports.oneTimeTokens.insertWithinBudget(resetToken(user, used), budget)).toBe(true)
    expect(await ports.oneTimeTokens.insertWithinBudget(resetToken(user, spare), budget)).toBe(true)
    const holder = await ports.oneTimeTokens.findLive(used, 'password_reset', NOW)
    if (!holder) throw new Error('the token was not found')
    const redeem = (passwordHash: string, newPasswordHash: string) =>
      ports.oneTimeTokens.redeemPasswordReset({
        tokenHash: used,
        holder: { ...holder, passwordHash },
        newPasswordHash,
        now: NOW,
        nowIso: 'now',
      })
    expect(await redeem(user.password_hash, 'first-new-hash')).toEqual([])

    // The same token again, from a caller that read the hash as it is now: only the token's own
    // used_at can refuse it.
    expect(await redeem('first-new-hash', 'second-new-hash')).toBeNull()
    const after = await ports.users.findById(user.id)
    expect(after).toMatchObject({ password_hash: 'first-new-hash', credential_version: 1 })
    expect(await ports.oneTimeTokens.findLive(spare, 'password_reset', NOW)).not.toBeNull()
  })
})
