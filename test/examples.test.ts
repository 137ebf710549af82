/**
 * The openapi-fetch examples (examples/openapi-fetch) run against the worker: the typed client
 * a front end would write works, including its error branches, and not only compiles.
 */
import { SELF } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { register, signIn, signOut } from '../examples/openapi-fetch/accounts'
import { ApiCallFailed, createApiClient } from '../examples/openapi-fetch/client'
import {
  createNote,
  deleteNote,
  findNote,
  listNotes,
  renameNote,
} from '../examples/openapi-fetch/notes'
import { refreshTokens, startSession } from '../examples/openapi-fetch/session'
import { tour } from '../examples/openapi-fetch/tour'
import { uniqueEmail, PASSWORD } from './helpers/accounts'
import { BASE_URL } from './helpers/requests'

const LOGIN_FAILURES_ALLOWED = 10

/** Every path the clients below asked for, in order. */
let requestedPaths: string[] = []

const newClient = () =>
  createApiClient(BASE_URL, {
    fetch: (request: Request) => {
      requestedPaths.push(new URL(request.url).pathname)
      return SELF.fetch(request)
    },
  })

describe('openapi-fetch examples', () => {
  it('the tour that `npm run example` runs against `npm run dev` goes through', async () => {
    const lines: string[] = []
    await tour(BASE_URL, (line) => lines.push(line), { fetch: (request) => SELF.fetch(request) })
    expect(lines.at(-1)).toBe('after sign-out the session is refused: 401 token_revoked')
    expect(lines).toContain('notes now: Shopping')
  })

  it('register, sign in, keep notes through a signed session, and sign out', async () => {
    const client = newClient()
    const email = uniqueEmail()
    const registered = await register(client, { email, password: PASSWORD, nickname: 'Ex' })
    expect(registered.user).toMatchObject({ email, nickname: 'Ex' })

    const signedIn = await signIn(client, email, PASSWORD)
    if (signedIn.outcome !== 'signed-in') throw new Error(`sign-in: ${signedIn.outcome}`)
    const session = startSession(client, signedIn.tokens)
    const notesClient = newClient()
    notesClient.use(session.middleware)

    const first = await createNote(notesClient, 'Groceries', 'Milk')
    const second = await createNote(notesClient, 'Calls', 'The bank')
    expect((await listNotes(notesClient)).map((note) => note.title)).toEqual(['Calls', 'Groceries'])
    expect((await renameNote(notesClient, first.id, 'Shopping')).title).toBe('Shopping')
    await deleteNote(notesClient, second.id)
    expect(await findNote(notesClient, second.id)).toBeUndefined()
    expect((await findNote(notesClient, first.id))?.title).toBe('Shopping')

    await signOut(client, session.current())
    const refused = await listNotes(notesClient).catch((error: unknown) => error)
    expect(refused).toBeInstanceOf(ApiCallFailed)
    expect(refused).toMatchObject({ status: 401, code: 'token_revoked' })
    // The registration's own session is untouched by signing out of the other one.
    expect(await listNotes(createSignedClient(registered.tokens.accessToken))).toHaveLength(1)
  })

  it('sign-in answers wrong-credentials the same way for a wrong password and an unknown email', async () => {
    const client = newClient()
    const email = uniqueEmail()
    await register(client, { email, password: PASSWORD })
    const wrongPassword = await signIn(client, email, 'not the password')
    const unknownEmail = await signIn(client, uniqueEmail(), PASSWORD)
    expect(wrongPassword).toEqual({
      outcome: 'wrong-credentials',
      message: 'The email or password is wrong.',
    })
    expect(unknownEmail).toEqual(wrongPassword)
  })

  it('sign-in answers throttled with the Retry-After seconds once the account is locked', async () => {
    const client = newClient()
    const email = uniqueEmail()
    await register(client, { email, password: PASSWORD })
    for (let attempt = 0; attempt < LOGIN_FAILURES_ALLOWED; attempt++) {
      expect((await signIn(client, email, 'not the password')).outcome).toBe('wrong-credentials')
    }
    const locked = await signIn(client, email, PASSWORD)
    expect(locked.outcome).toBe('throttled')
    if (locked.outcome !== 'throttled') return
    expect(locked.retryAfterSeconds).toBeGreaterThan(0)
    expect(locked.retryAfterSeconds).toBeLessThanOrEqual(15 * 60)
  })

  it('a session renews its access token once for parallel calls, and the new pair works', async () => {
    const client = newClient()
    const { tokens } = await register(client, { email: uniqueEmail(), password: PASSWORD })
    // The client's clock says the access token is about to expire: the next calls renew it.
    const session = startSession(client, tokens, () => tokens.accessExpiresAt)
    const notesClient = newClient()
    notesClient.use(session.middleware)
    requestedPaths = []

    const statuses = await Promise.all(
      [1, 2, 3].map(async () => (await notesClient.GET('/notes')).response.status)
    )
    expect(statuses).toEqual([200, 200, 200])
    expect(requestedPaths.filter((path) => path === '/auth/refresh')).toHaveLength(1)
    const renewed = session.current()
    expect(renewed.refreshToken).not.toBe(tokens.refreshToken)
    expect(renewed.accessToken).not.toBe(tokens.accessToken)
    // The session is alive and its newest refresh token still works.
    const next = await refreshTokens(client, renewed.refreshToken)
    expect(await listNotes(createSignedClient(next.accessToken))).toEqual([])
  })
})

const createSignedClient = (accessToken: string) => {
  const client = newClient()
  client.use({
    onRequest: ({ request }) => {
      request.headers.set('Authorization', `Bearer ${accessToken}`)
      return request
    },
  })
  return client
}
