/**
 * The conformance suite every adapter of the ports (src/ports.ts) must pass: each port's stated
 * guarantees, observed through the port alone. test/adapter-conformance.test.ts runs it against
 * the D1 and KV adapters on real local storage; a new store is one adapter file plus one call.
 */
import { describe, expect, it } from 'vitest'
import { shardTag } from '../../auth/encoding'
import { DependencyUnavailable, UniqueViolation } from '../../ports'
import type { AuthPorts, NewSession, NewUser, UserRow } from '../../ports'

/** What the suite needs: fresh ports over live storage, and ports whose storage always fails. */
export interface ConformanceTarget {
  ports: () => AuthPorts
  failing: () => AuthPorts
  /** The failure window the throttle was built with. */
  loginFailures: { limit: number; windowSeconds: number }
}

const NOW = 1_900_000_000

let counter = 0
const unique = (prefix: string) =>
  `${prefix}-${Date.now().toString(36)}-${(counter++).toString(36)}-${Math.random().toString(36).slice(2, 8)}`

/** A user as the domain makes one: its id from the ports, which decide where the account lives. */
const userOf = (ports: AuthPorts, overrides: Partial<NewUser> = {}): NewUser => {
  const email = overrides.email ?? `${unique('conformance')}@example.com`
  return {
    id: ports.newUserId?.(email) ?? crypto.randomUUID(),
    email,
    nickname: null,
    password_hash: unique('hash'),
    created_at: new Date(NOW * 1000).toISOString(),
  }
}

/** Its sessions' ids, and its tokens' hashes, carry its id's shard tag, as the domain's do. */
const newSession = (user: { id: string }, overrides: Partial<NewSession> = {}): NewSession => ({
  id: shardTag(user.id) + crypto.randomUUID(),
  user_id: user.id,
  refresh_hash: unique('refresh'),
  user_agent: null,
  created_at: NOW,
  expires_at: NOW + 3600,
  amr: '["pwd"]',
  auth_time: NOW,
  ...overrides,
})

const stored = async (ports: AuthPorts, id: string): Promise<UserRow> => {
  const user = await ports.users.findById(id)
  if (!user) throw new Error('the user was not stored')
  return user
}

export const describeConformance = (name: string, target: ConformanceTarget): void => {
  describe(`${name}: users`, () => {
    it('stores a user at credential version 0 and refuses a second one with the same email', async () => {
      const ports = target.ports()
      const user = userOf(ports)
      await ports.users.insert(user)
      expect(await ports.users.findByEmail(user.email)).toMatchObject({
        id: user.id,
        credential_version: 0,
      })
      expect(await ports.users.emailIsTaken(user.email)).toBe(true)
      await expect(ports.users.insert(userOf(ports, { email: user.email }))).rejects.toBeInstanceOf(
        UniqueViolation
      )
    })

    it('replaces a password hash only from the hash it was computed against', async () => {
      const ports = target.ports()
      const user = userOf(ports)
      await ports.users.insert(user)
      expect(await ports.users.replacePasswordHash(user.id, 'stale', 'next', 'now')).toBe(false)
      expect(
        await ports.users.replacePasswordHash(user.id, user.password_hash, 'next', 'now')
      ).toBe(true)
      const after = await stored(ports, user.id)
      expect(after.password_hash).toBe('next')
      // The same password rehashed: the credential version stays.
      expect(after.credential_version).toBe(0)
    })

    it('changes a password atomically: the version moves and the other sessions end', async () => {
      const ports = target.ports()
      const user = userOf(ports)
      const current = newSession(user)
      await ports.users.insertWithSession(user, current)
      const other = newSession(user)
      expect(await ports.sessions.insert(other, { credentialVersion: 0 })).toBe(true)

      const lost = await ports.users.changePassword({
        userId: user.id,
        sessionId: current.id,
        previousHash: 'not the stored hash',
        newHash: 'h2',
        updatedAt: 'now',
        now: NOW,
      })
      expect(lost).toEqual({ landed: false, endedRefreshHashes: [] })

      const won = await ports.users.changePassword({
        userId: user.id,
        sessionId: current.id,
        previousHash: user.password_hash,
        newHash: 'h2',
        updatedAt: 'now',
        now: NOW,
      })
      expect(won).toEqual({ landed: true, endedRefreshHashes: [other.refresh_hash] })
      expect((await stored(ports, user.id)).credential_version).toBe(1)
      expect((await ports.sessions.find(current.id))?.revoked_at).toBeNull()
      expect((await ports.sessions.find(other.id))?.revoked_at).toBe(NOW)
    })

    it('deletes a user with their sessions in one go', async () => {
      const ports = target.ports()
      const user = userOf(ports)
      const session = newSession(user)
      await ports.users.insertWithSession(user, session)
      await ports.users.deleteCascade(user.id, [])
      expect(await ports.users.findById(user.id)).toBeNull()
      expect(await ports.sessions.find(session.id)).toBeNull()
    })
  })

  describe(`${name}: sessions`, () => {
    it('inserts a session only while the credential version is the one given', async () => {
      const ports = target.ports()
      const user = userOf(ports)
      await ports.users.insert(user)
      expect(await ports.sessions.insert(newSession(user), { credentialVersion: 1 })).toBe(false)
      const session = newSession(user)
      expect(await ports.sessions.insert(session, { credentialVersion: 0 })).toBe(true)
      expect(await ports.sessions.check(session.id, 'primary')).toMatchObject({
        user_id: user.id,
        revoked_at: null,
        amr: '["pwd"]',
        auth_time: NOW,
        owner: { id: user.id, email: user.email },
      })
    })

    it('lets exactly one of two racing rotations win', async () => {
      const ports = target.ports()
      const user = userOf(ports)
      const session = newSession(user)
      await ports.users.insertWithSession(user, session)
      const rotation = (nextHash: string) => ({
        id: session.id,
        expectedHash: session.refresh_hash,
        nextHash,
        successorBox: 'box',
        now: NOW + 1,
        expiresAt: NOW + 7200,
      })
      const results = await Promise.all([
        ports.sessions.rotate(rotation('a')),
        ports.sessions.rotate(rotation('b')),
      ])
      expect(results.filter(Boolean)).toHaveLength(1)
      const after = await ports.sessions.find(session.id)
      expect(after?.previous_hash).toBe(session.refresh_hash)
      expect(['a', 'b']).toContain(after?.refresh_hash)
    })

    it('ends sessions by scope, each once, and drops their successor boxes', async () => {
      const ports = target.ports()
      const user = userOf(ports)
      const [first, second, third] = [newSession(user), newSession(user), newSession(user)]
      await ports.users.insertWithSession(user, first)
      await ports.sessions.insert(second, { credentialVersion: 0 })
      await ports.sessions.insert(third, { credentialVersion: 0 })
      await ports.sessions.rotate({
        id: first.id,
        expectedHash: first.refresh_hash,
        nextHash: 'next',
        successorBox: 'box',
        now: NOW,
        expiresAt: NOW + 3600,
      })

      expect(await ports.sessions.revokeUserSessions(user.id, { only: first.id }, NOW)).toEqual([
        'next',
      ])
      expect((await ports.sessions.find(first.id))?.successor_box).toBeNull()
      expect(await ports.sessions.revokeUserSessions(user.id, { only: first.id }, NOW)).toEqual([])
      expect(await ports.sessions.revokeUserSessions(user.id, { except: second.id }, NOW)).toEqual([
        third.refresh_hash,
      ])
      expect((await ports.sessions.listLive(user.id, NOW)).map((row) => row.id)).toEqual([
        second.id,
      ])
      expect(await ports.sessions.revoke(second.id, NOW)).toBe(true)
      expect(await ports.sessions.revoke(second.id, NOW)).toBe(false)
      expect(await ports.sessions.revokeUserSessions(user.id, 'all', NOW)).toEqual([])
    })

    it('lists neither ended nor expired sessions as live', async () => {
      const ports = target.ports()
      const user = userOf(ports)
      const live = newSession(user)
      await ports.users.insertWithSession(user, live)
      await ports.sessions.insert(newSession(user, { expires_at: NOW - 1 }), {
        credentialVersion: 0,
      })
      expect((await ports.sessions.listLive(user.id, NOW)).map((row) => row.id)).toEqual([live.id])
    })
  })

  describe(`${name}: refresh index`, () => {
    it('finds what was put, and nothing once deleted', async () => {
      const { refreshIndex } = target.ports()
      const hash = unique('hash')
      const record = { sid: 'session', uid: 'user', exp: NOW + 3600 }
      expect(await refreshIndex.get(hash)).toBeNull()
      await refreshIndex.put(hash, record, NOW)
      expect(await refreshIndex.get(hash)).toEqual(record)
      await refreshIndex.delete([hash])
      expect(await refreshIndex.get(hash)).toBeNull()
    })
  })

  describe(`${name}: login throttle`, () => {
    it('hands out at most the limit of places however many ask at once', async () => {
      const { loginThrottle } = target.ports()
      const email = `${unique('throttle')}@example.com`
      const { limit, windowSeconds } = target.loginFailures
      const attempts = await Promise.all(
        Array.from({ length: limit + 3 }, () => loginThrottle.reserve(email, NOW))
      )
      const granted = attempts.flatMap((attempt) =>
        attempt.reservation ? [attempt.reservation] : []
      )
      expect(granted).toHaveLength(limit)
      const refused = attempts.find((attempt) => attempt.lockout)
      expect(refused?.lockout?.retryAfter).toBe(windowSeconds)

      const [place] = granted
      if (!place) throw new Error('no place was granted')
      await loginThrottle.release(place)
      expect((await loginThrottle.reserve(email, NOW)).reservation).not.toBeNull()
      expect((await loginThrottle.reserve(email, NOW + windowSeconds)).reservation).not.toBeNull()
    })
  })

  describe(`${name}: one-time tokens`, () => {
    it('issues within the budget and redeems a reset once, moving the credential version', async () => {
      const ports = target.ports()
      const user = userOf(ports)
      const session = newSession(user)
      await ports.users.insertWithSession(user, session)
      // Shaped as stored: the shard tag, then a SHA-256 in base64url (43 characters).
      const hashOf = (name: string) => shardTag(user.id) + name.padEnd(43, '0')
      const token = (name: string) => ({
        tokenHash: hashOf(name),
        purpose: 'password_reset' as const,
        userId: user.id,
        email: user.email,
        passwordFingerprint: 'fingerprint',
        now: NOW,
        expiresAt: NOW + 1800,
      })
      const budget = { limit: 2, windowSeconds: 3600 }
      expect(await ports.oneTimeTokens.insertWithinBudget(token('t1'), budget)).toBe(true)
      expect(await ports.oneTimeTokens.insertWithinBudget(token('t2'), budget)).toBe(true)
      expect(await ports.oneTimeTokens.insertWithinBudget(token('t3'), budget)).toBe(false)

      const t1 = hashOf('t1')
      const holder = await ports.oneTimeTokens.findLive(t1, 'password_reset', NOW)
      expect(holder).toMatchObject({ userId: user.id, passwordHash: user.password_hash })
      if (!holder) throw new Error('the token was not found')
      const redeem = (newPasswordHash: string) =>
        ports.oneTimeTokens.redeemPasswordReset({
          tokenHash: t1,
          holder,
          newPasswordHash,
          now: NOW,
          nowIso: 'now',
        })
      const results = await Promise.all([redeem('n1'), redeem('n2')])
      expect(results.filter((ended) => ended !== null)).toEqual([[session.refresh_hash]])
      expect((await stored(ports, user.id)).credential_version).toBe(1)
      expect((await ports.sessions.find(session.id))?.successor_box).toBeNull()
      expect(await ports.oneTimeTokens.findLive(t1, 'password_reset', NOW)).toBeNull()
    })
  })

  describe(`${name}: outbox`, () => {
    it("lists the outbox's newest first", async () => {
      const ports = target.ports()
      const first = { to: 'a@example.com', subject: 's', text: 't', html: 'h', created_at: '1' }
      await ports.outbox.insert(first)
      await ports.outbox.insert({ ...first, to: 'b@example.com', created_at: '2' })
      expect((await ports.outbox.list()).slice(0, 2).map((message) => message.to)).toEqual([
        'b@example.com',
        'a@example.com',
      ])
    })
  })

  describe(`${name}: failures`, () => {
    it('turns every failure of the storage into DependencyUnavailable', async () => {
      const ports = target.failing()
      await expect(ports.users.findById('x')).rejects.toBeInstanceOf(DependencyUnavailable)
      await expect(ports.sessions.check('x', 'primary')).rejects.toBeInstanceOf(
        DependencyUnavailable
      )
      await expect(ports.refreshIndex.get('x')).rejects.toBeInstanceOf(DependencyUnavailable)
      await expect(ports.loginThrottle.reserve('x@example.com', NOW)).rejects.toBeInstanceOf(
        DependencyUnavailable
      )
    })
  })
}
