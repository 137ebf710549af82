/** The typed client: hc<AppType> compiles against the app's routes and drives the worker. */
import { SELF } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { noteTitles, signIn } from '../examples/hc/accounts'
import { createClient } from '../src/client'
import type { ErrorCode } from '../src/http/errors'
import { uniqueEmail } from './helpers/accounts'
import { BASE_URL } from './helpers/requests'

const client = createClient(BASE_URL, {
  fetch: (input: RequestInfo | URL, init?: RequestInit) => SELF.fetch(input, init),
})

describe('typed client', () => {
  it('registers, reads /me and creates a note with typed requests and responses', async () => {
    const email = uniqueEmail()
    const registered = await client.auth.register.$post({
      json: { email, password: 'correct horse battery staple', nickname: 'Typed' },
    })
    expect(registered.status).toBe(201)
    if (registered.status !== 201) return
    const tokens = await registered.json()
    // The response type is known: these compile only because the fields exist.
    expect(tokens.user.email).toBe(email)
    // Bearer mode (no cookie mode asked for, no verification required): the body carries the tokens.
    if (!('access_token' in tokens)) throw new Error('expected a bearer token response')
    expect(tokens.token_type).toBe('Bearer')

    const headers = { Authorization: `Bearer ${tokens.access_token}` }
    const me = await client.me.$get({}, { headers })
    expect(me.status).toBe(200)
    if (me.status === 200) expect((await me.json()).user.nickname).toBe('Typed')

    const created = await client.notes.$post(
      { json: { title: 'from hc', body: 'typed' } },
      { headers }
    )
    expect(created.status).toBe(201)
    if (created.status === 201) {
      const { note } = await created.json()
      const fetched = await client.notes[':id'].$get({ param: { id: note.id } }, { headers })
      expect(fetched.status).toBe(200)
    }
  })

  it('refuses wrong calls at compile time', () => {
    // Each line below is a type error; the test fails to typecheck if one of them compiles.
    const wrongCalls = [
      // @ts-expect-error the password is missing
      () => client.auth.login.$post({ json: { email: 'a@example.com' } }),
      // @ts-expect-error no such route
      () => client.auth.nothing.$post(),
      // @ts-expect-error notes are not deleted by POST
      () => client.notes[':id'].$post({ param: { id: 'x' } }),
    ]
    expect(wrongCalls).toHaveLength(3)
  })
})

describe('typed client error responses', () => {
  it('types and answers a failed login as 401 invalid_credentials', async () => {
    const email = uniqueEmail()
    await client.auth.register.$post({ json: { email, password: 'correct horse battery staple' } })
    const res = await client.auth.login.$post({ json: { email, password: 'not the password' } })
    // Without the error responses in ApiClient, this comparison is TS2367 ('200' and '401').
    expect(res.status).toBe(401)
    if (res.status !== 401) return
    const body = await res.json()
    const code: ErrorCode = body.error
    expect(code).toBe('invalid_credentials')
    expect(body.message).toBe('The email or password is wrong.')
  })

  it('types OAuth failures with the RFC 6749 body', async () => {
    const res = await client.oauth.token.$post(
      {},
      {
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        init: { body: 'grant_type=refresh_token&refresh_token=not-a-token' },
      }
    )
    expect(res.status).toBe(400)
    if (res.status !== 400) return
    const body = await res.json()
    expect('error_description' in body && body.error).toBe('invalid_grant')
  })

  it('runs the hc example from the published entry point, error branches included', async () => {
    const email = uniqueEmail()
    await client.auth.register.$post({ json: { email, password: 'correct horse battery staple' } })
    expect(await signIn(client, email, 'not the password')).toEqual({
      outcome: 'wrong-credentials',
      message: 'The email or password is wrong.',
    })
    const signedIn = await signIn(client, email, 'correct horse battery staple')
    if (signedIn.outcome !== 'signed-in') throw new Error(signedIn.outcome)
    expect(await noteTitles(client, signedIn.accessToken)).toEqual([])
    expect(await noteTitles(client, 'not.a.token')).toBeUndefined()
  })
})
