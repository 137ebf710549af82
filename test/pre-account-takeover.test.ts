/**
 * Pre-account takeover: someone registers an address before its owner does. With
 * REQUIRE_EMAIL_VERIFICATION=true the owner's own registration replaces the unverified account;
 * with it off, the owner's password reset takes the account back, ending every session and, through
 * the features' onAccountReclaimed hook, every credential added before the address was verified.
 */
import { createExecutionContext, env } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import type { AuthFeature } from '../src/feature'
import { app } from '../src/index'
import { PASSWORD, registerUser, uniqueEmail } from './helpers/accounts'
import { advanceClock, pinClock } from './helpers/clock'
import { fetchApp, testAuth } from './helpers/create-auth'
import {
  APP_URL,
  OUTBOX_ENV,
  linkToken,
  mailApi,
  messagesTo,
  resetTokenFor,
  verificationTokenFor,
  verifyEmail,
} from './helpers/recovery'
import { buildRequest, expectError } from './helpers/requests'
import { expectSessionEnded, tokensOf } from './helpers/sessions'
import { Barrier, d1PausingAfterRead } from './helpers/storage-faults'

const REQUIRED = { REQUIRE_EMAIL_VERIFICATION: 'true' }
const ATTACKER_PASSWORD = 'the squatter chose this one'
const OWNER_PASSWORD = 'the owner chose this one'

const register = (email: string, password: string, nickname?: string) =>
  mailApi('/auth/register', { json: { email, password, nickname } }, REQUIRED)
const login = (email: string, password: string) =>
  mailApi('/auth/login', { json: { email, password } }, REQUIRED)

describe('REQUIRE_EMAIL_VERIFICATION=true: registering an unverified address', () => {
  it('replaces the account: 201 as for a new one, the new password, and only the new link verifies', async () => {
    const email = uniqueEmail()
    expect((await register(email, ATTACKER_PASSWORD, 'squatter')).status).toBe(201)
    const [squattersLink] = await messagesTo(email)

    const res = await register(email, OWNER_PASSWORD)

    expect(res.status).toBe(201)
    const body = (await res.json()) as Record<string, unknown>
    expect(Object.keys(body).sort()).toEqual(['email_verification_required', 'user'])
    expect(body.user).toMatchObject({ email, nickname: null, email_verified: false })
    // Register itself mailed the new link.
    const messages = await messagesTo(email)
    expect(messages).toHaveLength(2)
    await expectError(
      await verifyEmail(linkToken(squattersLink, 'verify')),
      400,
      'invalid_one_time_token'
    )
    expect((await verifyEmail(linkToken(messages[0], 'verify'))).status).toBe(200)
    expect((await login(email, OWNER_PASSWORD)).status).toBe(200)
    await expectError(await login(email, ATTACKER_PASSWORD), 401, 'invalid_credentials')
  })

  it("leaves another account's pending link alone: only the replaced account's links die", async () => {
    const bystander = uniqueEmail()
    expect((await register(bystander, OWNER_PASSWORD)).status).toBe(201)
    const [bystandersLink] = await messagesTo(bystander)
    const email = uniqueEmail()
    expect((await register(email, ATTACKER_PASSWORD)).status).toBe(201)

    expect((await register(email, OWNER_PASSWORD)).status).toBe(201)

    expect((await verifyEmail(linkToken(bystandersLink, 'verify'))).status).toBe(200)
  })

  it('still answers 409 email_taken for a verified address, and changes nothing', async () => {
    const email = uniqueEmail()
    await register(email, OWNER_PASSWORD)
    expect((await verifyEmail(linkToken((await messagesTo(email))[0], 'verify'))).status).toBe(200)

    await expectError(await register(email, ATTACKER_PASSWORD), 409, 'email_taken')
    expect((await login(email, OWNER_PASSWORD)).status).toBe(200)
  })

  it('sends the verification message within the per-account cap, however often it is replaced', async () => {
    const email = uniqueEmail()
    for (let i = 0; i < 5; i++) expect((await register(email, `${PASSWORD} ${i}`)).status).toBe(201)

    expect(await messagesTo(email)).toHaveLength(3)
  })

  it('a replacement racing the owner verifying the first registration loses: 409, the verified password stays', async () => {
    const email = uniqueEmail()
    await register(email, OWNER_PASSWORD)
    const [ownersLink] = await messagesTo(email)
    // The squatter's registration reads the unverified account, then waits for the owner's click.
    const read = new Barrier(1)
    const db = d1PausingAfterRead(env.DB, 'users', () => read.arrive())
    const squatting = app.fetch(
      buildRequest('/auth/register', { json: { email, password: ATTACKER_PASSWORD } }),
      { ...env, ...OUTBOX_ENV, ...REQUIRED, DB: db },
      createExecutionContext()
    )
    await read.allArrived
    expect((await verifyEmail(linkToken(ownersLink, 'verify'))).status).toBe(200)
    read.release()

    await expectError(await squatting, 409, 'email_taken')
    expect((await login(email, OWNER_PASSWORD)).status).toBe(200)
  })
})

/**
 * A feature of the test's own that keeps "credentials" in a table of its own and removes, when the
 * account is reclaimed, those added before the address was verified: what the second-factor,
 * passkey and identity features do with theirs.
 */
const reclaimed: { userId: string; verifiedAt: string | null }[] = []
const testCredentials: AuthFeature = {
  id: 'test-credentials',
  setup: (core) => ({
    onAccountReclaimed: (userId, verifiedAt) => {
      reclaimed.push({ userId, verifiedAt })
      return {
        steps: [
          core.ports.d1
            .prepare(
              'DELETE FROM test_credentials WHERE user_id = ?1 AND (?2 IS NULL OR added_at < ?2)'
            )
            .bind(userId, verifiedAt),
        ],
      }
    },
  }),
}
const auth = testAuth({
  features: [testCredentials],
  mail: { transport: 'outbox', appUrl: APP_URL, apiUrl: 'https://mail.invalid' },
})

const addCredential = async (userId: string, name: string) => {
  await env.DB.prepare(
    'CREATE TABLE IF NOT EXISTS test_credentials (user_id TEXT, name TEXT, added_at TEXT)'
  ).run()
  await env.DB.prepare('INSERT INTO test_credentials VALUES (?1, ?2, ?3)')
    .bind(userId, name, new Date().toISOString())
    .run()
}
const credentialsOf = async (userId: string) =>
  (
    await env.DB.prepare('SELECT name FROM test_credentials WHERE user_id = ?1 ORDER BY name')
      .bind(userId)
      .all<{ name: string }>()
  ).results.map((row) => row.name)

const resetWithFeature = (token: string) =>
  fetchApp(auth.app, '/auth/password/reset', { json: { token, new_password: OWNER_PASSWORD } })

describe('REQUIRE_EMAIL_VERIFICATION off: the owner takes the account back with a reset', () => {
  it('ends every session and every credential added to the never-verified account', async () => {
    reclaimed.length = 0
    const squatter = await registerUser({ password: ATTACKER_PASSWORD })
    await addCredential(squatter.userId, 'squatters passkey')
    const token = await resetTokenFor(squatter.email)

    expect((await resetWithFeature(token)).status).toBe(204)

    expect(reclaimed).toEqual([{ userId: squatter.userId, verifiedAt: null }])
    expect(await credentialsOf(squatter.userId)).toEqual([])
    await expectSessionEnded(tokensOf(squatter.tokens))
  })

  it('keeps what was added while the address was verified, as for any reset', async () => {
    reclaimed.length = 0
    pinClock()
    const account = await registerUser()
    await addCredential(account.userId, 'before verification')
    advanceClock(60)
    expect((await verifyEmail(await verificationTokenFor(account.email))).status).toBe(200)
    const { email_verified_at: verifiedAt } = (await env.DB.prepare(
      'SELECT email_verified_at FROM users WHERE id = ?1'
    )
      .bind(account.userId)
      .first<{ email_verified_at: string }>())!
    advanceClock(60)
    await addCredential(account.userId, 'while verified')

    expect((await resetWithFeature(await resetTokenFor(account.email))).status).toBe(204)

    expect(reclaimed).toEqual([{ userId: account.userId, verifiedAt }])
    expect(await credentialsOf(account.userId)).toEqual(['while verified'])
  })

  it('removes nothing when the reset token is refused', async () => {
    reclaimed.length = 0
    const account = await registerUser()
    await addCredential(account.userId, 'kept')

    await expectError(await resetWithFeature('A'.repeat(43)), 400, 'invalid_one_time_token')

    expect(reclaimed).toEqual([])
    expect(await credentialsOf(account.userId)).toEqual(['kept'])
  })
})
