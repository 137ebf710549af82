/** What refresh tokens leave behind in KV and D1: hashes with expirations, never the tokens. */
import { env } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { registerUser } from './helpers/accounts'
import type { TokenResponseBody } from './helpers/accounts'
import { api } from './helpers/requests'
import { refresh, refreshKeyOf } from './helpers/sessions'
import { decodeJwt, sha256Base64Url } from './helpers/tokens'

const KEY_PATTERN = /^v1:refresh:[A-Za-z0-9_-]{43}$/

/** Every key of the namespace with its expiration and value, following list() cursors. */
const dumpNamespace = async () => {
  const entries: { name: string; expiration?: number; value: string | null }[] = []
  let cursor: string | undefined
  do {
    const page: KVNamespaceListResult<unknown> = await env.REFRESH_TOKENS.list({ cursor })
    for (const key of page.keys) {
      entries.push({
        name: key.name,
        expiration: key.expiration,
        value: await env.REFRESH_TOKENS.get(key.name),
      })
    }
    cursor = page.list_complete ? undefined : page.cursor
  } while (cursor)
  return entries
}

/** A user with a rotated chain: the first refresh token and its successor. */
const registerAndRefresh = async () => {
  const account = await registerUser()
  const res = await refresh(account.refreshToken)
  expect(res.status).toBe(200)
  const rotated = await res.json<TokenResponseBody>()
  return { account, tokens: [account.refreshToken, rotated.refresh_token], rotated }
}

describe('refresh tokens in Workers KV', () => {
  it('never appear raw in any key or value', async () => {
    const { tokens } = await registerAndRefresh()
    const entries = await dumpNamespace()
    expect(entries.length).toBeGreaterThanOrEqual(2)
    for (const entry of entries) {
      for (const token of tokens) {
        expect(entry.name).not.toContain(token)
        expect(entry.value ?? '').not.toContain(token)
      }
    }
  })

  it('are keyed v1:refresh:<SHA-256 of the token, base64url>, one key per issued token', async () => {
    const { tokens } = await registerAndRefresh()
    const names = (await dumpNamespace()).map((entry) => entry.name)
    for (const name of names) expect(name).toMatch(KEY_PATTERN)
    for (const token of tokens) expect(names).toContain(await refreshKeyOf(token))
  })

  it('store a record naming the session and user, not the token', async () => {
    const { account, rotated } = await registerAndRefresh()
    const value = await env.REFRESH_TOKENS.get(await refreshKeyOf(rotated.refresh_token), 'json')
    const { sid } = decodeJwt(rotated.access_token).payload
    expect(value).toMatchObject({ sid, uid: account.userId })
  })

  it('expire about refresh_expires_in seconds after they were issued', async () => {
    const { rotated } = await registerAndRefresh()
    const now = Date.now() / 1000
    const key = await refreshKeyOf(rotated.refresh_token)
    const issued = (await dumpNamespace()).find((candidate) => candidate.name === key)
    expect(issued?.expiration).toBeTypeOf('number')
    // KV keeps whole seconds; a few seconds of slack for the requests in between.
    expect(issued?.expiration).toBeGreaterThanOrEqual(
      Math.floor(now) + rotated.refresh_expires_in - 5
    )
    expect(issued?.expiration).toBeLessThanOrEqual(Math.ceil(now) + rotated.refresh_expires_in + 1)
  })

  it('give every key an expiration', async () => {
    await registerAndRefresh()
    for (const entry of await dumpNamespace()) {
      expect(entry.expiration, entry.name).toBeTypeOf('number')
    }
  })

  it('are removed from KV when their session is logged out', async () => {
    const { rotated } = await registerAndRefresh()
    const key = await refreshKeyOf(rotated.refresh_token)
    expect(await env.REFRESH_TOKENS.get(key)).not.toBeNull()
    expect(
      (await api('/auth/logout', { method: 'POST', token: rotated.access_token })).status
    ).toBe(204)
    expect(await env.REFRESH_TOKENS.get(key)).toBeNull()
  })
})

describe('refresh tokens in D1', () => {
  it('never appear raw in the sessions table; only their hash does', async () => {
    const { account, tokens } = await registerAndRefresh()
    const { results } = await env.DB.prepare('SELECT * FROM sessions WHERE user_id = ?1')
      .bind(account.userId)
      .all()
    expect(results).toHaveLength(1)
    const row = results[0]
    for (const token of tokens) {
      for (const [column, value] of Object.entries(row)) {
        expect(String(value), column).not.toContain(token)
      }
    }
    expect(row.refresh_hash).toBe(await sha256Base64Url(tokens[1]))
  })

  it('never appear raw anywhere in the database', async () => {
    const { tokens } = await registerAndRefresh()
    const tables = await env.DB.prepare(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%'"
    ).all<{ name: string }>()
    expect(tables.results.map((table) => table.name)).toContain('sessions')
    for (const { name } of tables.results) {
      const { results } = await env.DB.prepare(`SELECT * FROM "${name}"`).all()
      const dump = JSON.stringify(results)
      for (const token of tokens) expect(dump, name).not.toContain(token)
    }
  })
})
