/**
 * The credential-version guard of the inserts a login makes (its session and its device token):
 * each lands only while *this account's* credential version is the one the login read. Another
 * account still at that version must not let a raced login's rows through.
 */
import { env } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { registerUser } from './helpers/accounts'
import { api, apiWithEnv, expectError } from './helpers/requests'
import { Barrier, d1PausingAfter } from './helpers/storage-faults'

const NEW_PASSWORD = 'a brand new passphrase for the guard'

const count = async (sql: string, userId: string): Promise<number> =>
  (await env.DB.prepare(sql).bind(userId).first<{ n: number }>())?.n ?? 0

describe('a login raced by a password change, beside an account still at the old version', () => {
  it('lands neither its session nor its device token', async () => {
    const owner = await registerUser()
    // A fresh account is at credential version 0, the version the held login read for the owner.
    const bystander = await registerUser()
    const barrier = new Barrier(1)
    // The login is held right after it read the owner's row (version 0), before its inserts.
    const db = d1PausingAfter(env.DB, /FROM users WHERE email/, () => barrier.arrive())
    const held = apiWithEnv({ DB: db }, '/auth/login', {
      json: { email: owner.email, password: owner.password },
    })
    await barrier.allArrived

    const change = await api('/auth/password', {
      token: owner.accessToken,
      json: { current_password: owner.password, new_password: NEW_PASSWORD },
    })
    expect(change.status, await change.text()).toBe(204)
    const sessionsBefore = await count(
      'SELECT count(*) AS n FROM sessions WHERE user_id = ?1',
      owner.userId
    )
    const devicesBefore = await count(
      'SELECT count(*) AS n FROM device_tokens WHERE user_id = ?1',
      owner.userId
    )
    barrier.release()
    const res = await held

    // The login checked the old password: it is refused, and nothing of it was stored.
    await expectError(res, 401, 'invalid_credentials')
    expect(await count('SELECT count(*) AS n FROM sessions WHERE user_id = ?1', owner.userId)).toBe(
      sessionsBefore
    )
    expect(
      await count('SELECT count(*) AS n FROM device_tokens WHERE user_id = ?1', owner.userId)
    ).toBe(devicesBefore)
    // The bystander was at version 0 all along, and keeps working.
    expect((await api('/me', { token: bystander.accessToken })).status).toBe(200)
  })
})
