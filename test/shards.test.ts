/**
 * Accounts sharded over three D1 databases (the sharded test project: DB_SHARDS=3 over DB, DB_1,
 * DB_2; docs/scaling.md): where an account's rows land, which database each hot path touches, the
 * bindings' validation, and registrations that fail or race, observed in the shards themselves.
 */
import { env } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { emailShard, shardOf } from '../src/adapters/d1/shards'
import { servicesFromEnv } from '../src/worker-services'
import { PASSWORD, loginUser, registerUser, uniqueEmail } from './helpers/accounts'
import type { Account, TokenResponseBody } from './helpers/accounts'
import { resetPassword, resetTokenFor, verificationTokenFor, verifyEmail } from './helpers/recovery'
import { api, apiWithEnv, callApp, expectError } from './helpers/requests'
import { listSessions, refreshKeyOf, rotate, sessionIdOf } from './helpers/sessions'
import { SHARDS, shardDb } from './helpers/shards'
import {
  Barrier,
  FaultyStorage,
  d1PausingAfter,
  d1PausingAfterRead,
} from './helpers/storage-faults'

const BINDINGS = ['DB', 'DB_1', 'DB_2'] as const

/** An address whose account the email hash places on shard `k`. */
const emailOn = (k: number): string => {
  for (;;) {
    const email = uniqueEmail()
    if (emailShard(email, 3) === k) return email
  }
}

/** How many rows of `table` match, on each shard in order. */
const rowsPerShard = async (table: string, where: string, value: string): Promise<number[]> =>
  Promise.all(
    SHARDS().map(async (db) => {
      const row = await db
        .prepare(`SELECT count(*) AS n FROM ${table} WHERE ${where} = ?1`)
        .bind(value)
        .first<{ n: number }>()
      return row?.n ?? 0
    })
  )

/** `n` on shard `k`, nothing elsewhere. */
const onlyOn = (k: number, n = 1) => [0, 1, 2].map((shard) => (shard === k ? n : 0))

/** The env with every shard wrapped to count the D1 calls that reach it. */
const countingEnv = () => {
  const calls = [0, 0, 0]
  const wrapped = Object.fromEntries(
    BINDINGS.map((name, k) => [
      name,
      d1PausingAfter(env[name], /./, async () => {
        calls[k]++
      }),
    ])
  )
  return { calls, env: { ...env, ...wrapped } }
}

it('runs with three shards', () => {
  expect(env.DB_SHARDS).toBe('3')
  expect(SHARDS()).toHaveLength(3)
})

describe('placement by address', () => {
  // The hash must never change between versions: an account lives where it was placed, so a new
  // function would look every existing address up on the wrong shard. Pinned to FNV-1a's own
  // published 32-bit vectors (a shard count of 2^32 leaves the hash itself).
  it.each([
    ['', 0x811c9dc5],
    ['a', 0xe40c292c],
    ['foobar', 0xbf9cf968],
  ])('places %j by 32-bit FNV-1a (%i)', (address, hash) => {
    expect(emailShard(address, 2 ** 32)).toBe(hash)
    expect(emailShard(address, 3)).toBe(hash % 3)
  })

  it("routes a statement by the first address it binds, whatever else follows it (an adapter's free text, a second address)", () => {
    const [ada, bob] = [emailOn(0), emailOn(1)]
    // Texts whose own hash names another shard, so that taking one for the address would show.
    expect([emailShard('a note', 3), emailShard('more text', 3)]).toEqual([1, 2])
    expect(shardOf([ada, 'a note', 42], 3)).toBe(0)
    expect(shardOf([ada, bob], 3)).toBe(0)
    expect(shardOf([bob, ada], 3)).toBe(1)
    expect(shardOf(['free text', bob, 'more text'], 3)).toBe(1)
    // Nothing that names a shard: shard 0.
    expect(shardOf(['free text', 7], 3)).toBe(0)
  })
})

describe('the router', () => {
  it.each([0, 1, 2])(
    "keeps an account's note on its shard (%i) though the note's text is an address, or starts like a tag, of another",
    async (k) => {
      const account = await registerUser({ email: emailOn(k) })
      const elsewhere = emailOn((k + 1) % 3)
      const title = `${(k + 2) % 3}~not-an-id`
      const created = await api('/notes', {
        token: account.accessToken,
        json: { title, body: elsewhere },
      })
      expect(created.status, await created.clone().text()).toBe(201)
      const { id } = (await created.json<{ note: { id: string } }>()).note
      const updated = await api(`/notes/${id}`, {
        method: 'PATCH',
        token: account.accessToken,
        json: { title: elsewhere },
      })
      expect(updated.status, await updated.clone().text()).toBe(200)
      expect(await rowsPerShard('notes', 'user_id', account.userId)).toEqual(onlyOn(k))
      const list = await api('/notes', { token: account.accessToken })
      expect((await list.json<{ notes: { id: string; title: string }[] }>()).notes).toEqual([
        expect.objectContaining({ id, title: elsewhere }),
      ])
    }
  )
})

describe('placement', () => {
  it.each([0, 1, 2])(
    'an account on shard %i: its rows there only, and its ids and tokens say so',
    async (k) => {
      const account = await registerUser({ email: emailOn(k) })
      const tag = `${k}~`
      const sessionId = sessionIdOf(account.accessToken)
      // Every shard's ids are tagged, shard 0's too (one shard keeps today's plain UUIDs).
      expect(account.userId).toMatch(new RegExp(`^${tag}[0-9a-f-]{36}$`))
      expect(sessionId.startsWith(tag) && sessionId.length === tag.length + 36).toBe(true)
      expect(account.tokens.device_token).toMatch(new RegExp(`^${tag}[\\w-]{43}$`))
      expect(await rowsPerShard('users', 'email', account.email)).toEqual(onlyOn(k))
      expect(await rowsPerShard('sessions', 'user_id', account.userId)).toEqual(onlyOn(k))
      expect(await rowsPerShard('device_tokens', 'user_id', account.userId)).toEqual(onlyOn(k))
      // The refresh record names the session, hence its shard.
      const record = await env.REFRESH_TOKENS.get(await refreshKeyOf(account.refreshToken), 'json')
      expect(record).toMatchObject({ sid: sessionId, uid: account.userId })
    }
  )

  it('spreads addresses over every shard', () => {
    const counts = [0, 0, 0]
    for (let i = 0; i < 300; i++) counts[emailShard(`user${i}@example.com`, 3)]++
    for (const count of counts) expect(count).toBeGreaterThan(70)
  })
})

describe('the hot paths touch one shard', () => {
  it.each([1, 2])('GET /me and POST /auth/refresh of an account on shard %i', async (k) => {
    const account = await registerUser({ email: emailOn(k) })
    const me = countingEnv()
    const res = await callApp(me.env, '/me', { token: account.accessToken })
    expect(res.status).toBe(200)
    expect(me.calls).toEqual(onlyOn(k))

    const renewal = countingEnv()
    const refreshed = await callApp(renewal.env, '/auth/refresh', {
      json: { refresh_token: account.refreshToken },
    })
    expect(refreshed.status, await refreshed.clone().text()).toBe(200)
    expect(renewal.calls.filter((_, shard) => shard !== k)).toEqual([0, 0])
    expect(renewal.calls[k]).toBeGreaterThan(0)
  })

  it('a login reads and writes its email shard only, a known device counted there too', async () => {
    const account = await registerUser({ email: emailOn(2) })
    const login = countingEnv()
    const res = await callApp(login.env, '/auth/login', {
      json: { email: account.email, password: PASSWORD },
      headers: { 'X-Device-Token': account.tokens.device_token ?? '' },
    })
    expect(res.status, await res.clone().text()).toBe(200)
    expect(login.calls.slice(0, 2)).toEqual([0, 0])
    // The device's own failure count (`device:2~…`) lives on the account's shard.
    const deviceKeys = await env.DB_2.prepare(
      "SELECT count(*) AS n FROM login_failures WHERE email LIKE 'device:2~%'"
    ).first<{ n: number }>()
    expect(deviceKeys?.n).toBeGreaterThan(0)
  })
})

describe('the shard bindings', () => {
  it.each([
    ['a missing DB_2', { DB_2: undefined }],
    ['DB_SHARDS=0', { DB_SHARDS: '0' }],
    ['DB_SHARDS=x', { DB_SHARDS: 'x' }],
    ['DB_SHARDS=4 with three bindings', { DB_SHARDS: '4' }],
  ])('%s is 500 server_misconfigured', async (_, overrides) => {
    const res = await apiWithEnv(overrides, '/auth/login', {
      json: { email: uniqueEmail(), password: PASSWORD },
    })
    await expectError(res, 500, 'server_misconfigured')
  })
})

describe('tokens a client made up', () => {
  it('a shard tag naming no shard finds nothing, as any unknown token: a 4xx, never a 5xx', async () => {
    const forged = `7~${'A'.repeat(43)}`
    await expectError(
      await api('/auth/password/reset', { json: { token: forged, new_password: 'x'.repeat(12) } }),
      400,
      'invalid_one_time_token'
    )
    await expectError(
      await api('/auth/email/verify', { json: { token: forged } }),
      400,
      'invalid_one_time_token'
    )
    await expectError(
      await api('/auth/mfa/verify', {
        json: { mfa_token: forged, method: 'totp', code: '123456' },
      }),
      401,
      'invalid_mfa_token'
    )
    const account = await registerUser({ email: emailOn(1) })
    const login = await api('/auth/login', {
      json: { email: account.email, password: PASSWORD },
      headers: { 'X-Device-Token': forged },
    })
    expect(login.status).toBe(200)
  })
})

describe('registration: one shard, one transaction', () => {
  /** Where in a registration's storage calls its one D1 write (the batch) comes. */
  const batchPosition = async (): Promise<number> => {
    const probe = new FaultyStorage()
    const res = await probe.fetch('/auth/register', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ email: emailOn(1), password: PASSWORD }),
    })
    expect(res.status).toBe(201)
    expect(probe.calls.filter((call) => call === 'd1.batch')).toHaveLength(1)
    return probe.calls.indexOf('d1.batch') + 1
  }

  const register = (storage: FaultyStorage, email: string) =>
    storage.fetch('/auth/register', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ email, password: PASSWORD }),
    })

  it('dies before its write lands: 503, and no trace on any shard; a retry registers', async () => {
    const email = emailOn(1)
    const storage = new FaultyStorage({ failAt: await batchPosition(), mode: 'before' })
    await expectError(await register(storage, email), 503, 'service_unavailable')
    expect(await rowsPerShard('users', 'email', email)).toEqual([0, 0, 0])
    expect((await api('/auth/register', { json: { email, password: PASSWORD } })).status).toBe(201)
    expect(await rowsPerShard('users', 'email', email)).toEqual(onlyOn(1))
  })

  it('dies after its write landed: 503, and the whole account there, usable', async () => {
    const email = emailOn(1)
    const storage = new FaultyStorage({ failAt: await batchPosition(), mode: 'after' })
    await expectError(await register(storage, email), 503, 'service_unavailable')
    const users = await rowsPerShard('users', 'email', email)
    expect(users).toEqual(onlyOn(1))
    const user = await env.DB_1.prepare('SELECT id FROM users WHERE email = ?1')
      .bind(email)
      .first<{ id: string }>()
    expect(await rowsPerShard('sessions', 'user_id', user?.id ?? '')).toEqual(onlyOn(1))
    // A retry is told the address is taken; the password the client chose signs in.
    await expectError(
      await api('/auth/register', { json: { email, password: PASSWORD } }),
      409,
      'email_taken'
    )
    expect((await loginUser(email, PASSWORD)).userId).toBe(user?.id)
  })

  it('two registrations of one email race: both reach the same shard, one wins, one account', async () => {
    const email = emailOn(2)
    // Both pass the "is it taken?" read before either writes.
    const bothChecked = Barrier.releasedWhenFull(2)
    const racing = {
      ...env,
      DB_2: d1PausingAfterRead(env.DB_2, 'users', () => bothChecked.arrive()),
    }
    const results = await Promise.all(
      ['first', 'second'].map((nickname) =>
        callApp(racing, '/auth/register', { json: { email, password: PASSWORD, nickname } })
      )
    )
    expect(results.map((res) => res.status).sort()).toEqual([201, 409])
    expect(bothChecked.arrived).toBe(2)
    expect(await rowsPerShard('users', 'email', email)).toEqual(onlyOn(2))
    const winner = (await results.find((res) => res.status === 201)!.json()) as TokenResponseBody
    expect(await rowsPerShard('sessions', 'user_id', winner.user.id)).toEqual(onlyOn(2))
  })
})

describe('the routes with three shards', () => {
  /** The walk of docs/api.md's main routes for one account, checked in its shard. */
  const walk = async (account: Account, k: number) => {
    const db = shardDb(account.userId)
    expect(db).toBe(SHARDS()[k])
    const me = await api('/me', { token: account.accessToken })
    expect(await me.json()).toMatchObject({ user: { id: account.userId, email: account.email } })

    const second = await loginUser(account.email, PASSWORD)
    const renewed = await rotate(second.refreshToken)
    const sessions = await listSessions(renewed.accessToken)
    expect(sessions.map((s) => s.id).sort()).toEqual(
      [sessionIdOf(account.accessToken), sessionIdOf(second.accessToken)].sort()
    )
    // Ending the first session from the second.
    const ended = await api(`/auth/sessions/${sessionIdOf(account.accessToken)}`, {
      method: 'DELETE',
      token: renewed.accessToken,
    })
    expect(ended.status).toBe(204)
    await expectError(await api('/me', { token: account.accessToken }), 401, 'token_revoked')

    const created = await api('/notes', {
      token: renewed.accessToken,
      json: { title: 'on a shard', body: 'b' },
    })
    expect(created.status).toBe(201)
    const { note } = (await created.json()) as { note: { id: string } }
    expect(await rowsPerShard('notes', 'user_id', account.userId)).toEqual(onlyOn(k))
    const listed = await api('/notes', { token: renewed.accessToken })
    expect(((await listed.json()) as { notes: unknown[] }).notes).toHaveLength(1)
    const patched = await api(`/notes/${note.id}`, {
      method: 'PATCH',
      token: renewed.accessToken,
      json: { title: 'renamed' },
    })
    expect(patched.status).toBe(200)

    // Recovery: the link's token carries the shard, and the reset ends every session there.
    const verify = await verificationTokenFor(account.email)
    expect(verify.startsWith(`${k}~`)).toBe(true)
    expect((await verifyEmail(verify)).status).toBe(200)
    const reset = await resetTokenFor(account.email)
    expect((await resetPassword(reset, 'a new passphrase for the shard')).status).toBe(204)
    await expectError(await api('/me', { token: renewed.accessToken }), 401, 'token_revoked')

    const fresh = await loginUser(account.email, 'a new passphrase for the shard')
    expect(fresh.tokens.user.email_verified).toBe(true)
    const out = await api('/auth/logout', { token: fresh.accessToken, json: {} })
    expect(out.status).toBe(204)
    await expectError(await api('/me', { token: fresh.accessToken }), 401, 'token_revoked')

    const last = await loginUser(account.email, 'a new passphrase for the shard')
    const gone = await api('/me', {
      method: 'DELETE',
      token: last.accessToken,
      json: { password: 'a new passphrase for the shard' },
    })
    expect(gone.status).toBe(204)
    for (const table of ['sessions', 'notes', 'device_tokens', 'one_time_tokens']) {
      expect(await rowsPerShard(table, 'user_id', account.userId)).toEqual([0, 0, 0])
    }
    expect(await rowsPerShard('users', 'email', account.email)).toEqual([0, 0, 0])
  }

  it.each([0, 1, 2])(
    'register, login, me, refresh, sessions, notes, recovery, logout, delete on shard %i',
    async (k) => {
      await walk(await registerUser({ email: emailOn(k) }), k)
    }
  )
})

describe('the daily prune', () => {
  it('prunes every shard and counts them all', async () => {
    const accounts = await Promise.all([0, 1, 2].map((k) => registerUser({ email: emailOn(k) })))
    // Each account's session expired long ago.
    for (const account of accounts) {
      await shardDb(account.userId)
        .prepare('UPDATE sessions SET expires_at = 1 WHERE user_id = ?1')
        .bind(account.userId)
        .run()
    }
    const pruned = await servicesFromEnv(env).ports.maintenance.pruneStaleRows(
      Math.floor(Date.now() / 1000)
    )
    expect(pruned.sessions).toBeGreaterThanOrEqual(3)
    for (const account of accounts) {
      expect(await rowsPerShard('sessions', 'user_id', account.userId)).toEqual([0, 0, 0])
    }
  })
})
